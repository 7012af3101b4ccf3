import { expect } from 'chai';
import { runBootCheck } from '../../src/agent/boot-check.js';
import { bootSequence } from '../../src/agent/boot-sequence.js';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { agentPaths, writeSlotRecords } from '../../src/agent/agent-state.js';
import { fixedImage, type InstalledImage } from '../../src/agent/installed-images.js';
import { parseEnvelope, verifyEnvelope } from '../../src/telemetry/envelope.js';
import type { EventInput } from '../../src/telemetry/event.js';
import { DiskOutboxStore } from '../../src/telemetry/outbox/disk-store.js';
import { flipByte, NOW, REPO, S, targetBytes, useBoardRig, withDevice, type Board } from './rig.js';

describe('agent boot check (real swtpm)', function () {
  const rig = useBoardRig(this);

  it('verifies the factory image, measures it into the measurement PCR and reports a signed verdict', async () => {
    const board = await rig.board();
    const dev = await board.open();
    try {
      const r = await runBootCheck(dev, NOW);
      expect(r.ok).to.equal(true);
      const [o] = r.outcomes;
      expect(o.verdict.ok && o.verdict.target.custom.version).to.equal(S.v1.version);
      const events = await dev.trust.verifyEventLog();
      expect(events.map((e) => e.image)).to.deep.equal([S.v1.target]);
      expect(events[0].digest).to.equal(o.digest!.sha256);
    } finally {
      await dev.close();
    }
    const { entries } = await new DiskOutboxStore(join(board.config.stateDir, 'outbox')).load();
    const envs = entries.map((e) => parseEnvelope(e.bytes)).filter((e) => e.event.type === 'boot-verification');
    expect(envs).to.have.length(1);
    expect(envs[0].event.verdict).to.equal('ok');
    expect(envs[0].event.image?.sha256).to.match(/^[0-9a-f]{64}$/);
    expect(envs[0].event.keyids).to.have.length.greaterThan(0);
    const device = JSON.parse(await readFile(join(board.config.stateDir, 'trust', 'device.json'), 'utf8')) as { reportPublicKey: string };
    verifyEnvelope(envs[0], Buffer.from(device.reportPublicKey, 'hex'));
  });

  const refusals: { name: string; code: string; arrange: (b: Board) => Promise<void>; hardwareId?: string }[] = [
    { name: 'a tampered slot', code: 'DIGEST_MISMATCH', arrange: (b) => flipByte(b.slots.a) },
    { name: 'a truncated slot', code: 'LENGTH_MISMATCH', arrange: async (b) => writeFile(b.slots.a, (await targetBytes(REPO, S.v1.target)).subarray(0, 1000)) },
    { name: 'a longer slot', code: 'LENGTH_MISMATCH', arrange: async (b) => writeFile(b.slots.a, Buffer.concat([await targetBytes(REPO, S.v1.target), Buffer.alloc(1)])) },
    { name: 'an image built for other hardware', code: 'HARDWARE_MISMATCH', arrange: () => Promise.resolve(), hardwareId: 'board-b' },
    {
      name: 'an image rolled back below the TPM security floor',
      code: 'ROLLBACK',
      arrange: async (b) => {
        const dev = await b.open();
        await dev.trust.raiseFloor('securityVersion', 2).finally(() => dev.close());
      },
    },
  ];
  for (const t of refusals) {
    it(`refuses ${t.name} with ${t.code} (onFailure refuse: no READY)`, async () => {
      const board = await rig.board({}, t.hardwareId);
      await t.arrange(board);
      const dev = await board.open();
      try {
        const o = await bootSequence(dev, NOW);
        expect(o.proceed).to.equal(false);
        expect(o.action).to.equal('refused');
        expect(o.code).to.equal(t.code);
        expect(await dev.trust.verifyEventLog(), 'a refused image is never measured').to.deep.equal([]);
      } finally {
        await dev.close();
      }
    });
  }

  it('report-only reports the refusal but lets the agent go on', async () => {
    const board = await rig.board({ onFailure: 'report-only' });
    await flipByte(board.slots.a);
    expect(await withDevice(board, (dev) => bootSequence(dev, NOW))).to.include({ action: 'report-only', proceed: true, code: 'DIGEST_MISMATCH' });
    const { entries } = await new DiskOutboxStore(join(board.config.stateDir, 'outbox')).load();
    const verdicts = entries.map((e) => parseEnvelope(e.bytes).event).filter((e) => e.type === 'boot-verification');
    expect(verdicts.map((e) => [e.verdict, e.code])).to.deep.equal([['refused', 'DIGEST_MISMATCH']]);
  });

  it('fallback switches the bootloader to the other slot when it verifies, and reboots', async () => {
    const board = await rig.board({ onFailure: 'fallback' });
    const v2 = await targetBytes(REPO, S.v2.target);
    await writeFile(board.slots.b, v2);
    const sha256 = createHash('sha256').update(v2).digest('hex');
    await writeSlotRecords(agentPaths(board.config.stateDir), { B: { name: S.v2.target, length: v2.length, sha256, version: S.v2.version, securityVersion: S.v2.securityVersion } });
    await flipByte(board.slots.a);
    expect(await withDevice(board, (dev) => bootSequence(dev, NOW))).to.include({ action: 'fallback', proceed: false, code: 'DIGEST_MISMATCH' });
    expect((await board.boot.state()).good).to.equal('B');
    expect(board.reboots).to.have.length(1);
    expect(await board.boot.simulateBoot()).to.equal('B');
  });

  // Three copies of the factory image, the middle one tampered: ok, refused, ok.
  async function threeImages(board: Board): Promise<InstalledImage[]> {
    const bytes = await targetBytes(REPO, S.v1.target);
    const paths = [join(board.dir, 'one.bin'), join(board.dir, 'two.bin'), join(board.dir, 'three.bin')];
    for (const p of paths) await writeFile(p, bytes);
    await flipByte(paths[1]);
    return paths.map((path) => fixedImage({ target: S.v1.target, kind: 'firmware', path }));
  }

  it('starts each event append without waiting for it and has them all durable before it returns', async () => {
    const board = await rig.board();
    const images = await threeImages(board);
    const dev = await board.open();
    const log: string[] = [];
    let started = 0;
    let allStarted: () => void = () => undefined;
    const gate = new Promise<void>((r) => (allStarted = r));
    // an outbox that completes no append until all three have started (or 3 s have passed, when the
    // check awaits each append inline); no timing race decides the outcome
    const report = async (event: EventInput): Promise<void> => {
      if (event.type !== 'boot-verification') return dev.report(event);
      const i = ++started;
      log.push(`start ${i}`);
      if (started === images.length) allStarted();
      await Promise.race([gate, new Promise((r) => setTimeout(r, 3000))]);
      log.push(`end ${i}`);
    };
    try {
      const r = await runBootCheck({ ...dev, report }, NOW, images);
      expect(r.outcomes.map((o) => o.verdict.ok)).to.deep.equal([true, false, true]);
      expect(log.slice(0, 3), 'every image is checked while the earlier events are still being written').to.deep.equal(['start 1', 'start 2', 'start 3']);
      expect(log.filter((l) => l.startsWith('end')), 'every append finished before the check returned').to.have.length(3);
    } finally {
      await dev.close();
    }
  });

  it('pipelined events keep their sequence numbers in image order', async () => {
    const board = await rig.board();
    const images = await threeImages(board);
    const dev = await board.open();
    try {
      await runBootCheck(dev, NOW, images);
    } finally {
      await dev.close();
    }
    const { entries } = await new DiskOutboxStore(join(board.config.stateDir, 'outbox')).load();
    const events = entries.map((e) => parseEnvelope(e.bytes).event).filter((e) => e.type === 'boot-verification');
    expect(events.sort((a, b) => a.seq - b.seq).map((e) => e.verdict)).to.deep.equal(['ok', 'refused', 'ok']);
  });

  it('fallback refuses when the other slot does not verify either', async () => {
    const board = await rig.board({ onFailure: 'fallback' });
    await flipByte(board.slots.a);
    const dev = await board.open();
    try {
      expect(await bootSequence(dev, NOW)).to.include({ action: 'refused', proceed: false });
    } finally {
      await dev.close();
    }
    expect((await board.boot.state()).good).to.equal('A');
    expect(board.reboots).to.deep.equal([]);
  });
});
