import { expect } from 'chai';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { bootSequence } from '../../src/agent/boot-sequence.js';
import type { Device } from '../../src/agent/device.js';
import { runUpdate } from '../../src/agent/update.js';
import type { AgentConfig } from '../../src/config/schema.js';
import { createLogger, type Logger } from '../../src/log/logger.js';
import { CACHE_FILE } from '../../src/revocation/cache.js';
import { REVOCATION_LIST_TYPE, serializeRevocationList } from '../../src/revocation/list.js';
import { parseEnvelope } from '../../src/telemetry/envelope.js';
import type { TelemetryEvent } from '../../src/telemetry/event.js';
import { DiskOutboxStore } from '../../src/telemetry/outbox/disk-store.js';
import { RevocationPublisher, sha } from './revocation-publisher.js';
import { REPO, useBoardRig, type Board } from './rig.js';

const DAY = 86_400_000;

// The device's logs, as JSON lines, for asserting what an operator would see.
function captureLogs(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({ write: (chunk: Buffer, _enc, done) => void (lines.push(chunk.toString()), done()) });
  return { logger: createLogger({ level: 'debug', format: 'json', stream }), lines };
}

async function revocationEvents(board: Board): Promise<TelemetryEvent[]> {
  const { entries } = await new DiskOutboxStore(join(board.config.stateDir, 'outbox')).load();
  return entries.map((e) => parseEnvelope(e.bytes).event).filter((e) => e.type === 'revocation-refresh');
}

// Issue 5 at the agent: the clock moved past the list's expiry and grace (boot continues with an alarm,
// updates are blocked, each overridable), a repository with no list (onNever=allow, said loudly), and a
// published list that fails to verify before the first update.
describe('agent revocation freshness (real swtpm, injected clock)', function () {
  const rig = useBoardRig(this, { scratch: 'es-agent-revfresh-' });

  async function withDevice<T>(board: Board, opts: { clock?: Date; config?: AgentConfig; logger?: Logger }, fn: (dev: Device) => Promise<T>): Promise<T> {
    const dev = await board.open({ ...(opts.clock ? { clock: () => opts.clock! } : {}), ...(opts.config ? { config: opts.config } : {}), ...(opts.logger ? { logger: opts.logger } : {}) });
    try {
      return await fn(dev);
    } finally {
      await dev.close();
    }
  }

  it('past expiry and grace: boot continues with an alarm, updates are blocked; overridable in the config, the expired list still enforced', async () => {
    const pub = new RevocationPublisher(join(rig.dir, 'expiry'));
    // issued yesterday, valid 3 days: fresh now, past its 7-day grace 10 days from now
    await pub.publish({ kind: 'digest', sha256: sha(pub.v2), reason: 'bricks the radio' }, { issued: new Date(Date.now() - DAY), validDays: 3 });
    const board = await rig.board({}, 'board-a', pub.dir);
    expect(await withDevice(board, {}, (dev) => runUpdate(dev))).to.include({ action: 'refused', code: 'IMAGE_REVOKED' });
    // within grace (5 days on) updates go on with a warning, the list enforced: v2 stays revoked
    const stale = new Date(Date.now() + 5 * DAY);
    const staleLogs = captureLogs();
    expect(await withDevice(board, { clock: stale, logger: staleLogs.logger }, (dev) => runUpdate(dev))).to.include({ action: 'refused', code: 'IMAGE_REVOKED' });
    expect(staleLogs.lines.join('')).to.contain('revocation list stale').and.contain('within the 7-day grace period');
    const later = new Date(Date.now() + 10 * DAY);

    const logs = captureLogs();
    const boot = await withDevice(board, { clock: later, logger: logs.logger }, (dev) => bootSequence(dev, later));
    expect(boot).to.include({ action: 'verified', proceed: true });
    expect(logs.lines.join('')).to.contain('ALARM revocation list expired').and.contain('continue-with-alarm');
    const alarm = (await revocationEvents(board)).find((e) => e.detail?.startsWith('boot:'));
    expect(alarm).to.include({ verdict: 'error', code: 'REVOCATION_STALE' });
    expect(alarm?.revocation).to.include({ version: 1 });

    const blocked = await withDevice(board, { clock: later }, (dev) => runUpdate(dev));
    expect(blocked).to.include({ action: 'refused', code: 'REVOCATION_STALE' });
    expect(blocked.message).to.contain('beyond the 7-day grace period');

    const overridden: AgentConfig = { ...board.config, revocation: { ...board.config.revocation, onExpired: { update: 'allow-with-warning', boot: 'block' } } };
    const strictBoot = await withDevice(board, { clock: later, config: overridden }, (dev) => bootSequence(dev, later));
    expect(strictBoot).to.include({ action: 'refused', proceed: false, code: 'REVOCATION_STALE' });
    // updates may go on past grace, but the expired list is still enforced: v2 stays revoked
    expect(await withDevice(board, { clock: later, config: overridden }, (dev) => runUpdate(dev))).to.include({ action: 'refused', code: 'IMAGE_REVOKED' });
  });

  it('no list published (default onNever=allow): the update proceeds, with a loud warning and reported events', async () => {
    const board = await rig.board({}, 'board-a', REPO);
    const logs = captureLogs();
    expect(await withDevice(board, { logger: logs.logger }, (dev) => runUpdate(dev))).to.include({ action: 'installed' });
    expect(logs.lines.join('')).to.contain('NO REVOCATION LIST').and.contain('updates proceed unchecked (revocation.onNever=allow)');
    const events = await revocationEvents(board);
    expect(events.find((e) => e.code === 'UNKNOWN_TARGET')).to.include({ verdict: 'error' });
    expect(events.find((e) => e.code === 'UNKNOWN_TARGET')?.detail).to.contain('updates proceed unchecked');
  });

  it('a published list that fails to verify blocks the metadata set and so the update, even under onNever=allow; once it verifies, it is enforced', async () => {
    const pub = new RevocationPublisher(join(rig.dir, 'unverifiable'));
    await pub.publish();
    const board = await rig.board({}, 'board-a', pub.dir);
    await pub.publish({ kind: 'digest', sha256: sha(pub.v2) });
    const listDir = join(pub.dir, 'targets', 'revocations');
    const good = new Map<string, Buffer>();
    for (const f of await readdir(listDir)) good.set(f, await readFile(join(listDir, f)));
    for (const [f, bytes] of good) await writeFile(join(listDir, f), Buffer.concat([bytes.subarray(0, -2), Buffer.from(' \n')]));
    const blocked = await withDevice(board, {}, (dev) => runUpdate(dev));
    expect(blocked).to.include({ action: 'refused', code: 'DIGEST_MISMATCH' });
    for (const [f, bytes] of good) await writeFile(join(listDir, f), bytes);
    expect(await withDevice(board, {}, (dev) => runUpdate(dev))).to.include({ action: 'refused', code: 'IMAGE_REVOKED' });
  });

  // H1: the cache records its own sha256, so whoever can write it can forge it. What the metadata verified
  // from the TPM-pinned root names is the only authority; the TPM floor says a list was accepted before.
  it('a deleted, corrupted or forged cache is never taken as fresh: boot alarm (reported), boot blocked under onExpired.boot=block, updates blocked', async () => {
    const pub = new RevocationPublisher(join(rig.dir, 'tamper'));
    await pub.publish({ kind: 'digest', sha256: sha(pub.v2), reason: 'bricks the radio' });
    const board = await rig.board({}, 'board-a', pub.dir);
    expect(await withDevice(board, {}, (dev) => runUpdate(dev))).to.include({ action: 'refused', code: 'IMAGE_REVOKED' });
    expect(await withDevice(board, {}, (dev) => dev.trust.readFloors())).to.include({ revocationVersion: 1 });
    const cache = join(board.config.stateDir, CACHE_FILE);
    // the attacker's list: the TPM floor's version, nothing revoked, valid until 2099, with its own sha256
    const forged = serializeRevocationList({ _type: REVOCATION_LIST_TYPE, version: 1, issued: new Date(Date.now() - DAY).toISOString().replace(/\.\d+Z$/, 'Z'), expires: '2099-01-01T00:00:00Z', keys: [], digests: [], minimumVersions: [] });
    const tamper: Record<string, () => Promise<void>> = {
      deleted: () => rm(cache),
      corrupted: () => writeFile(cache, '{"format":"edgeseal-revocation-cache","formatVersion":1,"highestVersion":1,"list":{"length":3}}'),
      forged: () => writeFile(cache, JSON.stringify({ format: 'edgeseal-revocation-cache', formatVersion: 1, highestVersion: 1, list: { length: forged.length, sha256: sha(forged), base64: Buffer.from(forged).toString('base64') } })),
    };
    const strict: AgentConfig = { ...board.config, revocation: { ...board.config.revocation, onExpired: { update: 'block', boot: 'block' } } };
    const listDir = join(pub.dir, 'targets', 'revocations');
    for (const [how, act] of Object.entries(tamper)) {
      await act();
      const logs = captureLogs();
      const boot = await withDevice(board, { logger: logs.logger }, (dev) => bootSequence(dev, new Date()));
      expect(boot, how).to.include({ action: 'verified', proceed: true });
      expect(logs.lines.join(''), how).to.contain('ALARM revocation list').and.contain('TPM-pinned root');
      const alarm = (await revocationEvents(board)).filter((e) => e.detail?.startsWith('boot:')).pop();
      expect(alarm, how).to.include({ verdict: 'error', code: 'REVOCATION_UNAUTHENTICATED' });
      expect(await withDevice(board, { config: strict }, (dev) => bootSequence(dev, new Date())), how).to.include({ action: 'refused', code: 'REVOCATION_UNAUTHENTICATED' });
      // the next refresh takes the list from the promoted set (verified from the pinned root), not the cache:
      // the mirror's copy is not even needed, and v2 is refused again
      await rename(listDir, `${listDir}.withheld`);
      try {
        const update = await withDevice(board, {}, (dev) => runUpdate(dev));
        expect(update, how).to.include({ action: 'refused', code: 'IMAGE_REVOKED' });
      } finally {
        await rename(`${listDir}.withheld`, listDir);
      }
      expect(await withDevice(board, {}, (dev) => dev.trust.readFloors()), how).to.include({ revocationVersion: 1 });
    }
    // the forged list still in the cache, the mirror serving again: the genuine list under the same version,
    // vouched for from the pinned root, replaces the forgery (no ROLLBACK) and is enforced
    expect(await withDevice(board, {}, (dev) => runUpdate(dev))).to.include({ action: 'refused', code: 'IMAGE_REVOKED' });
    expect(await withDevice(board, {}, (dev) => Promise.resolve(dev.revocations.status(new Date())))).to.include({ version: 1, state: 'fresh', sha256: sha(await readFile(join(listDir, (await readdir(listDir))[0]))) });
  });
});
