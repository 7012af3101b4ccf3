import { loadConfig } from '../agent/config-file.js';
import { EdgesealError } from '../core/errors.js';
import { RevocationCache } from '../revocation/cache.js';
import { decideFreshness, DEFAULT_FRESHNESS_POLICY, type FreshnessPolicy } from '../revocation/policy.js';
import { EXIT, exitCodeFor, parseCommandArgs, type Command } from './command.js';
import { NOW_OPTION, parseCount, parseNow } from './repo-shared.js';
import { promotedListProblem } from '../revocation/promoted-check.js';
import { printEntries } from './revocations-print.js';

const NAME = 'revocations status';

export const revocationsStatus: Command = {
  name: NAME,
  usage: [
    `${NAME} --config FILE | --state-dir DIR [--grace-days N]  [--now ISO] [--json]`,
    '',
    "  --config FILE      the agent config: its stateDir and its revocation policy (graceDays, onExpired, onNever)",
    "  --state-dir DIR    the agent's state directory (holds revocations/cache.json), judged by the default policy",
    `  --grace-days N     with --state-dir: days a list stays usable past its expiry (default ${DEFAULT_FRESHNESS_POLICY.graceDays})`,
    '  --now ISO          judge freshness at this time (default: the current time)',
    '  --json             one JSON object (state, version, highestVersion, ageDays, expires, boot, update, problem)',
    '',
    'Read-only: a damaged cache is reported, not repaired (the agent moves it aside and refetches).',
    'Exit 0 when the list is fresh or within grace, 1 when updates would be blocked, 3 when the cache is damaged.',
  ].join('\n'),
  async run(argv, io) {
    const { values } = parseCommandArgs(NAME, argv, { ...NOW_OPTION, config: { type: 'string' }, 'state-dir': { type: 'string' }, 'grace-days': { type: 'string' }, json: { type: 'boolean' } });
    if ((values.config === undefined) === (values['state-dir'] === undefined) || (values.config !== undefined && values['grace-days'] !== undefined)) {
      throw new EdgesealError('USAGE', `${NAME}: expected --config FILE, or --state-dir DIR [--grace-days N] (see 'edgeseal ${NAME} --help')`);
    }
    let stateDir: string, policy: FreshnessPolicy;
    if (values.config !== undefined) {
      const config = await loadConfig(values.config);
      const { graceDays, onExpired, onNever } = config.revocation;
      [stateDir, policy] = [config.stateDir, { graceDays, onExpired, onNever }];
    } else {
      [stateDir, policy] = [values['state-dir'] ?? '', { ...DEFAULT_FRESHNESS_POLICY, graceDays: parseCount(NAME, 'grace-days', values['grace-days'], DEFAULT_FRESHNESS_POLICY.graceDays, 0) }];
    }
    const now = parseNow(NAME, values.now);
    const status = (await RevocationCache.open({ stateDir, graceDays: policy.graceDays, readOnly: true })).status(now);
    // finding 6: a held list the promoted metadata does not name is never shown as fresh
    const unauthenticated = await promotedListProblem(stateDir, status, now);
    const boot = decideFreshness(status, 'boot', policy, unauthenticated);
    const update = decideFreshness(status, 'update', policy, unauthenticated);
    const state = unauthenticated ? 'unauthenticated' : status.state;
    const say = (d: typeof boot): string => (d.proceed ? `proceeds (${d.level}): ${d.message}` : `blocked [${d.error.code}]: ${d.error.message}`);
    const problem = status.cacheProblem;
    if (values.json) {
      const { version, highestVersion, ageDays, expires } = status;
      io.out(JSON.stringify({ state, ...(unauthenticated ? { code: unauthenticated.code } : {}), version: version ?? null, highestVersion, ageDays: ageDays ?? null, expires: expires ?? null, boot: boot.proceed ? boot.level : 'blocked', update: update.proceed ? update.level : 'blocked', problem: problem ? { code: problem.code, message: problem.message } : null }));
    } else {
      const age = status.ageDays === undefined ? '' : `, issued ${status.ageDays.toFixed(1)} days ago`;
      io.out(`revocation list: ${state}${unauthenticated ? ` [${unauthenticated.code}]` : ''}${status.version !== undefined ? ` v${status.version}` : ''}${status.expires ? `, expires ${status.expires}` : ''}${age}; highest accepted version ${status.highestVersion}`);
      if (problem) io.err(`cache damaged [${problem.code}]: ${problem.message}`);
      if (unauthenticated) io.err(`not authenticated [${unauthenticated.code}]: ${unauthenticated.message}`);
      io.out(`boot:   ${say(boot)}`);
      io.out(`update: ${say(update)}`);
      if (status.list) printEntries(io, status.list);
    }
    if (problem) return exitCodeFor(problem.code);
    return update.proceed ? EXIT.OK : EXIT.REFUSED;
  },
};
