import { randomBytes } from 'node:crypto';
import { EdgesealError } from '../core/errors.js';
import { generateKey } from '../crypto/ed25519.js';
import { loadWorkdir, saveWorkdir, storeKey } from '../repo/workdir.js';
import { decideRolloutSummary } from '../rollout/describe.js';
import type { RolloutChange } from '../rollout/edit.js';
import { ROLLOUTS_ROLE } from '../rollout/narrow.js';
import { isPercent, type RolloutStep } from '../rollout/policy.js';
import { stageRollout } from '../rollout/publisher-workdir.js';
import { EXIT, parseCommandArgs, required, type Command } from './command.js';
import { DIR_OPTION, DIR_USAGE, NOW_OPTION, NOW_USAGE, onePositional, parseDuration, parseNow, shortId } from './repo-shared.js';

const NAME = 'repo rollout';
const HEX64 = /^[0-9a-f]{64}$/;

function usage(message: string): EdgesealError {
  return new EdgesealError('USAGE', `${NAME}: ${message} (see 'edgeseal ${NAME} --help')`);
}

function percent(value: string, what: string): number {
  const n = Number(value.replace(/%$/, ''));
  if (!/^\d{1,3}(\.\d{1,2})?%?$/.test(value) || !isPercent(n)) throw usage(`${what}: expected a percentage 0–100 with at most two decimals, found ${JSON.stringify(value)}`);
  return n;
}

// 1@0h,10@24h,50@3d,100@7d: percentage @ time after --start, ascending.
function parseSteps(value: string): RolloutStep[] {
  const steps = value.split(',').map((part) => {
    const m = /^([^@]+)@(.+)$/.exec(part.trim());
    if (!m) throw usage(`--steps: expected PERCENT@DURATION[,…] (e.g. 1@0h,10@24h,100@7d), found ${JSON.stringify(part)}`);
    return { afterHours: parseDuration(NAME, 'steps', m[2]) / 3600, percent: percent(m[1], '--steps') };
  });
  steps.forEach((s, i) => {
    if (i > 0 && s.afterHours <= steps[i - 1].afterHours) throw usage(`--steps: expected ascending times, found ${steps[i - 1].afterHours}h then ${s.afterHours}h`);
  });
  return steps;
}

interface RolloutValues {
  percent?: string;
  steps?: string;
  start?: string;
  allow?: string[];
  halt?: boolean;
  resume?: boolean;
}

function changeFrom(v: RolloutValues, now: Date): RolloutChange {
  const chosen = (['percent', 'steps', 'allow', 'halt', 'resume'] as const).filter((k) => v[k] !== undefined);
  if (chosen.length !== 1) throw usage(`expected exactly one of --percent, --steps, --allow, --halt, --resume, found ${chosen.length ? chosen.map((c) => `--${c}`).join(' ') : 'none'}`);
  if (v.start !== undefined && v.steps === undefined) throw usage('--start only applies to --steps');
  if (v.percent !== undefined) return { kind: 'percent', percent: percent(v.percent, '--percent') };
  if (v.steps !== undefined) {
    const start = v.start === undefined ? now : parseNow(NAME, v.start);
    return { kind: 'steps', start: start.toISOString().replace(/\.\d{3}Z$/, 'Z'), steps: parseSteps(v.steps) };
  }
  if (v.allow !== undefined) {
    const keyids = v.allow.flatMap((a) => a.split(',')).filter((k) => k !== '').map((k) => k.toLowerCase());
    const bad = keyids.find((k) => !HEX64.test(k));
    if (bad !== undefined) throw usage(`--allow: expected report key ids (64 hex digits, as 'edgeseal provision' prints them), found ${JSON.stringify(bad)}`);
    return { kind: 'allow', keyids };
  }
  return v.halt ? { kind: 'halt' } : { kind: 'resume' };
}

export const repoRollout: Command = {
  name: NAME,
  usage: [
    `${NAME} TARGET --dir WORKDIR (--percent N | --steps P@T,… [--start ISO] | --allow KEYID[,KEYID…] | --halt | --resume) [--now ISO]`,
    '',
    `  ${DIR_USAGE}`,
    '  --percent N          devices whose bucket is below N % install TARGET (replaces any schedule)',
    '  --steps P@T,…        a schedule, e.g. 1@0h,10@24h,50@3d,100@7d: P % from T after --start (default now)',
    "  --allow KEYID        the canary ring: these report key ids install regardless of bucket ('' clears it); repeatable",
    '  --halt               stop new installs of TARGET at the devices\' next refresh (installed devices keep it)',
    '  --resume             undo --halt',
    `  ${NOW_USAGE}`,
    '',
    `The policy is the target rollouts/policy.json of the delegated role '${ROLLOUTS_ROLE}' (created with a new key on first`,
    "use). TARGET must be an image the repository signs: a rollout only narrows, never widens (docs/rollouts.md).",
    "'edgeseal repo refresh' or 'edgeseal repo publish' signs it with online keys only.",
  ].join('\n'),
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(
      NAME,
      argv,
      { ...DIR_OPTION, ...NOW_OPTION, percent: { type: 'string' }, steps: { type: 'string' }, start: { type: 'string' }, allow: { type: 'string', multiple: true }, halt: { type: 'boolean' }, resume: { type: 'boolean' } },
      true,
    );
    const target = onePositional(NAME, positionals, 'TARGET');
    const dir = required(NAME, 'dir', values.dir);
    const now = parseNow(NAME, values.now);
    const change = changeFrom(values, now);
    const repo = await loadWorkdir(dir, { keys: false });
    const key = generateKey(); // used only if this creates the rollouts role
    const { policy, created } = await stageRollout(dir, repo, { target, change, now, salt: randomBytes(16).toString('hex'), newKeys: () => [key] });
    // the private key reaches the disk before the state that names it
    if (created) io.out(`created role ${ROLLOUTS_ROLE} with key ${shortId(key.keyid)}  ${await storeKey(dir, ROLLOUTS_ROLE, key)}`);
    await saveWorkdir(dir, repo);
    io.out(`rollout policy v${policy.version} (issued ${policy.issued}): ${target} ${decideRolloutSummary(policy.rollouts[target], now)}`);
    io.out(`unsigned changes: ${repo.pending().join(', ')}; run 'edgeseal repo publish --dir ${dir} --out DIR' to sign and publish`);
    return EXIT.OK;
  },
};
