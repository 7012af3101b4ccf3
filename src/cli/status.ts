import { join } from 'node:path';
import { agentPaths, readAgentStatus, readSlotRecords } from '../agent/agent-state.js';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../agent/config-file.js';
import { bootSelectorFrom } from '../agent/boot-selector-config.js';
import { imageLines, short } from '../agent/format.js';
import { inFlightText, slotInFlight } from '../agent/slot-in-flight.js';
import { readJournal } from '../ota/install-journal.js';
import { spoolBacklog } from '../telemetry/outbox/disk-store.js';
import { EXIT, parseCommandArgs, type CliIo, type Command } from './command.js';

const NAME = 'status';

export const statusCommand: Command = {
  name: NAME,
  usage: [
    'status [--config FILE] [--json]',
    '',
    `  --config FILE   agent config (default ${DEFAULT_CONFIG_PATH}); everything else is read from its stateDir`,
    '  --json          print the status as JSON',
    '',
    'Read-only; does not touch the TPM (floors are as the agent last read them). exit 0.',
  ].join('\n'),

  async run(argv: string[], io: CliIo): Promise<number> {
    const { values } = parseCommandArgs(NAME, argv, { config: { type: 'string' }, json: { type: 'boolean' } });
    const config = await loadConfig(values.config ?? DEFAULT_CONFIG_PATH);
    const paths = agentPaths(config.stateDir);
    const [status, slots, journal] = await Promise.all([readAgentStatus(paths), readSlotRecords(paths), readJournal(paths.journal)]);
    const ab = config.images.find((i) => i.path === undefined);
    const boot = config.update.bootSelector ? await bootSelectorFrom(config.update.bootSelector).state().catch(() => undefined) : undefined;
    const telemetry = { broker: config.telemetry.broker ?? null, outbox: await spoolBacklog(join(config.stateDir, 'outbox')) };
    // a slot being streamed into holds the new target's bytes (unverified), whatever its record still says
    const inFlight = slotInFlight(journal);
    if (values.json) {
      io.out(JSON.stringify({ deviceId: config.deviceId, stateDir: config.stateDir, bootSelector: boot ?? null, slots, slotInFlight: inFlight ?? null, install: journal, telemetry, ...status }, null, 2));
      return EXIT.OK;
    }
    io.out(`device ${config.deviceId} (hardware ${config.hardwareId})   state ${config.stateDir}`);
    if (ab && config.update.slots) {
      const at = { A: config.update.slots.a, B: config.update.slots.b } as const;
      for (const slot of ['A', 'B'] as const) {
        const rec = slots[slot];
        const marks = [boot?.active === slot ? 'booted' : '', boot?.good === slot ? 'good' : '', boot?.trySlot === slot ? `trial×${boot.tryCount}` : ''].filter(Boolean).join(', ');
        const seen = status.boot?.images.find((i) => i.slot === slot && i.verdict === 'verified');
        const factory = seen ? `${seen.target} ${seen.version ?? ''} sha256 ${short(seen.sha256)}` : ab.target;
        const recorded = rec ? `${rec.name} ${rec.version} (sv ${rec.securityVersion}) sha256 ${short(rec.sha256)}` : slot === 'A' ? `${factory} (factory)` : '-';
        const held = inFlight?.slot === slot ? inFlightText(inFlight) : recorded;
        io.out(`  slot ${slot}  ${held.padEnd(60)} ${marks ? `[${marks}]` : ''}  ${at[slot]}`);
      }
    }
    io.out(`install    ${journal.state}${journal.install ? `: ${journal.install.target.name} ${journal.install.target.version} ${journal.install.fromSlot}→${journal.install.toSlot}${journal.install.outcome ? ` [${journal.install.outcome.code}]` : ''}` : ''}`);
    if (journal.state === 'health' && config.update.health.mode === 'external') io.out('           awaiting edgeseal mark-good or mark-bad (update.health.mode external)');
    if (status.boot) {
      const why = status.boot.code ? `  [${status.boot.code}] ${status.boot.message ?? ''}` : '';
      io.out(`last boot  ${status.boot.at}  ${status.boot.action}${status.boot.rootVersion ? `  root v${status.boot.rootVersion}` : ''}${why}`);
      imageLines(status.boot.images).forEach((l) => io.out(l));
      if (status.boot.revocation) io.out(`revocation [${status.boot.revocation.code}] ${status.boot.revocation.message}`);
    } else io.out('last boot  never checked');
    if (status.update) io.out(`last update ${status.update.at}  ${status.update.action}${status.update.code ? ` [${status.update.code}]` : ''}  ${status.update.message}`);
    if (status.clock) io.out(`clock      ${status.clock.ok ? 'ok' : `[${status.clock.code}] ${status.clock.message ?? ''}`}${status.clock.floor ? `  (time floor ${status.clock.floor})` : ''}`);
    if (status.floors) io.out(`floors     root ${status.floors.rootVersion}, security ${status.floors.securityVersion}, revocation ${status.floors.revocationVersion}, targets ${status.floors.targetsVersion}  (TPM, as of ${status.floors.at})`);
    const waiting = `${telemetry.outbox.entries} event(s), ${telemetry.outbox.bytes} bytes waiting in the outbox`;
    io.out(`telemetry  ${waiting}; ${telemetry.broker ? `broker ${telemetry.broker}` : 'no broker configured (telemetry.broker): they stay there until one is'}`);
    const schedules = Object.entries(status.schedules ?? {});
    io.out(`schedules  ${schedules.length ? schedules.map(([k, v]) => `${k} next ${v ?? '-'}`).join('; ') : 'none (agent not started, or no schedules configured)'}`);
    return EXIT.OK;
  },
};
