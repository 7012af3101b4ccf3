import { expect } from 'chai';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EdgesealError } from '../../src/core/errors.js';
import type { EventInput } from '../../src/telemetry/event.js';
import { drainSpool, spoolDir, spoolEvent } from '../../src/telemetry/spool.js';

describe('verdict spool (runDir/spool)', () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'es-spool-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('drains oldest first, marks each with its spool time, and removes what was recorded', async () => {
    await spoolEvent(dir, { type: 'boot-verification', verdict: 'refused', code: 'DIGEST_MISMATCH', detail: 'slot A' }, new Date('2026-06-01T12:00:01Z'));
    await spoolEvent(dir, { type: 'boot-verification', verdict: 'ok' }, new Date('2026-06-01T12:00:00Z'));
    const got: EventInput[] = [];
    const r = await drainSpool(dir, (e) => Promise.resolve(void got.push(e)));
    expect(r).to.deep.equal({ recorded: 2, rejected: [] });
    expect(got.map((e) => e.detail)).to.deep.equal(['spooled 2026-06-01T12:00:00.000Z (state dir not writable)', 'spooled 2026-06-01T12:00:01.000Z (state dir not writable): slot A']);
    expect(await readdir(spoolDir(dir))).to.deep.equal([]);
  });

  it('removes and names files that are not spooled events; keeps events the outbox could not take', async () => {
    await spoolEvent(dir, { type: 'boot-verification', verdict: 'ok' }, new Date('2026-06-01T12:00:00Z'));
    await writeFile(join(spoolDir(dir), '000000000000000-1-junk.json'), '{"format":1,"at":"x","event":{"type":"nope"}}');
    const full = await drainSpool(dir, () => Promise.reject(new EdgesealError('STORAGE_ERROR', 'outbox full'))).catch((e: EdgesealError) => e.code);
    expect(full).to.equal('STORAGE_ERROR');
    expect(await readdir(spoolDir(dir))).to.have.length(1); // the junk went first (sorted), the event stays
    const r = await drainSpool(dir, () => Promise.resolve());
    expect(r.recorded).to.equal(1);
  });

  it('an empty or missing spool drains to nothing', async () => {
    expect(await drainSpool(join(dir, 'absent'), () => Promise.resolve())).to.deep.equal({ recorded: 0, rejected: [] });
  });
});
