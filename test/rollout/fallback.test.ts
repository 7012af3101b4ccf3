import { expect } from 'chai';
import { decideUpdate, type GateCandidate, type RolloutResult } from '../../src/core/gate.js';

// A device outside the newest release's cohort falls back to the newest older release that is fully
// rolled out for its hardware, when that is newer than what it runs (docs/rollouts.md, "Falling back").
const NOW = new Date('2026-03-01T12:00:00Z');
const release = (version: string, hardwareIds = ['board-a']): GateCandidate => ({
  name: `fw/board-a/${version}.bin`, length: 10, sha256: 'ab'.repeat(32), custom: { hardwareIds, version, securityVersion: 1, kind: 'firmware' },
});
const WITHHELD: RolloutResult = { ok: false, code: 'ROLLOUT_WITHHELD', message: 'fw/board-a/1.2.0.bin: not yet in rollout (7301 ≥ 5000) (rollout policy v3)' };
const FULL: RolloutResult = { ok: true, reason: 'in rollout cohort (7301 < 10000)', full: true };
const HALF: RolloutResult = { ok: true, reason: 'in rollout cohort (2000 < 5000)', full: false };

function decide(rollouts: Record<string, RolloutResult | undefined>, installed: string | null, candidates = ['1.0.0', '1.0.5', '1.1.0', '1.2.0'].map((v) => release(v))) {
  return decideUpdate({
    candidates,
    device: { hardwareId: 'board-a', kind: 'firmware' },
    installed: installed === null ? null : { version: installed, securityVersion: 1 },
    floors: { securityVersion: 1 },
    revocation: () => ({ ok: true }),
    rollout: (c) => rollouts[c.custom.version],
    freeBytes: 1000,
    maintenanceWindows: [],
    policy: { allowDowngrade: false },
    now: NOW,
  });
}

describe('rollout fallback to an older, fully rolled-out release', () => {
  it('installs the newest older release at 100 % and says why in the first reason line', () => {
    const d = decide({ '1.2.0': WITHHELD, '1.1.0': FULL }, '1.0.0');
    if (d.action !== 'install') return expect.fail(JSON.stringify(d));
    expect(d.target.custom.version).to.equal('1.1.0');
    expect(d.reasons[0]).to.equal(`${WITHHELD.message}; falling back to fw/board-a/1.1.0.bin (version 1.1.0, fully rolled out: its rollout is at 100 %)`);
    expect(d.reasons).to.include('in rollout cohort (7301 < 10000)');
  });

  it('counts a release no rollout names as fully rolled out, and skips one only partly rolled out', () => {
    const none = decide({ '1.2.0': WITHHELD }, '1.0.0');
    if (none.action !== 'install') return expect.fail(JSON.stringify(none));
    expect(none.target.custom.version).to.equal('1.1.0');
    expect(none.reasons[0]).to.contain('fully rolled out: no rollout names it');
    const partial = decide({ '1.2.0': WITHHELD, '1.1.0': HALF }, '1.0.0');
    expect(partial).to.include({ action: 'install' });
    expect(partial.action === 'install' && partial.target.custom.version).to.equal('1.0.5');
    const halted = decide({ '1.2.0': WITHHELD, '1.1.0': { ...WITHHELD, message: 'rollout halted' }, '1.0.5': { ...WITHHELD, message: 'rollout halted' } }, '1.0.0');
    expect(halted).to.deep.include({ action: 'refuse', code: 'ROLLOUT_WITHHELD' });
  });

  it('waits when nothing fully rolled out is newer than what it runs, and says so', () => {
    const d = decide({ '1.2.0': WITHHELD, '1.1.0': FULL }, '1.1.0');
    expect(d).to.deep.include({ action: 'refuse', code: 'ROLLOUT_WITHHELD' });
    expect(d.action === 'refuse' && d.message).to.equal(`${WITHHELD.message}; no older release fully rolled out newer than installed 1.1.0 to fall back to`);
    const first = decide({ '1.2.0': WITHHELD, '1.1.0': HALF, '1.0.5': HALF, '1.0.0': HALF }, null);
    expect(first.action === 'refuse' && first.message).to.contain('for a first install');
  });

  it('never falls back past a broken policy (fail closed) or onto another hardware id', () => {
    const broken = decide({ '1.2.0': { ok: false, code: 'ROLLOUT_WIDENS', message: 'widens' }, '1.1.0': FULL }, '1.0.0');
    expect(broken).to.deep.include({ action: 'refuse', code: 'ROLLOUT_WIDENS' });
    const other = decide({ '1.2.0': WITHHELD, '1.1.0': FULL }, '1.0.0', [release('1.0.0'), release('1.1.0', ['board-b']), release('1.2.0')]);
    expect(other).to.deep.include({ action: 'refuse', code: 'ROLLOUT_WITHHELD' });
  });
});
