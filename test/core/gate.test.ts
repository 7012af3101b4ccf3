import { expect } from 'chai';
import { decideUpdate, type GateCandidate, type GateInput } from '../../src/core/gate.js';
import type { ErrorCode } from '../../src/core/errors.js';
import { parseMaintenanceWindows } from '../../src/core/maintenance-window.js';
import type { TargetCustom } from '../../src/core/target-meta.js';
import { MAX_FLOOR_STEP } from '../../src/trust/floors.js';

function candidate(name: string, custom: Partial<TargetCustom> = {}, length = 1000): GateCandidate {
  return {
    name,
    length,
    sha256: 'ab'.repeat(32),
    custom: { hardwareIds: ['board-a'], version: '1.0.0', securityVersion: 1, kind: 'firmware', ...custom },
  };
}

function input(over: Partial<GateInput> = {}): GateInput {
  return {
    candidates: [candidate('fw-1.1.0.bin', { version: '1.1.0' })],
    device: { hardwareId: 'board-a', kind: 'firmware' },
    installed: { version: '1.0.0', securityVersion: 1 },
    floors: { securityVersion: 1 },
    revocation: () => ({ ok: true }),
    freeBytes: 10_000,
    maintenanceWindows: [],
    policy: { allowDowngrade: false },
    now: new Date('2026-03-04T03:00:00Z'), // a Wednesday
    ...over,
  };
}

function installs(decision: ReturnType<typeof decideUpdate>): GateCandidate {
  if (decision.action !== 'install') expect.fail(`expected install, got ${JSON.stringify(decision)}`);
  return decision.target;
}

describe('decideUpdate (OTA gate)', () => {
  describe('choosing the target', () => {
    it('installs the newest compatible target and says why each gate passed', () => {
      const d = decideUpdate(input());
      expect(installs(d).name).to.equal('fw-1.1.0.bin');
      expect(d.action === 'install' && d.reasons).to.deep.equal([
        'hardware board-a listed by fw-1.1.0.bin',
        'version 1.1.0 newer than installed 1.0.0',
        'securityVersion 1 ≥ floor 1',
        'not revoked',
        'needs 1000 bytes, the inactive slot has room for 10000',
        'no maintenance window configured',
      ]);
    });

    it('answers NO_UPDATE when nothing of this kind is published', () => {
      const d = decideUpdate(input({ candidates: [candidate('os.img', { kind: 'os', version: '9.0.0' })] }));
      expect(d).to.include({ action: 'none', code: 'NO_UPDATE' });
      expect(decideUpdate(input({ candidates: [] }))).to.include({ action: 'none', code: 'NO_UPDATE' });
    });

    it('refuses HARDWARE_MISMATCH when every target of this kind is for other hardware', () => {
      const d = decideUpdate(input({ candidates: [candidate('b.bin', { hardwareIds: ['board-b', 'board-c'], version: '2.0.0' })] }));
      expect(d).to.include({ action: 'refuse', code: 'HARDWARE_MISMATCH' });
      expect(d.action === 'refuse' && d.message).to.contain('board-b, board-c');
    });

    it('ignores newer targets for other hardware and picks by semver precedence, not by name', () => {
      const d = decideUpdate(
        input({
          candidates: [
            candidate('b-9.bin', { hardwareIds: ['board-b'], version: '9.0.0' }),
            candidate('a-1.10.bin', { version: '1.10.0' }),
            candidate('a-1.9.bin', { version: '1.9.0' }),
            candidate('a-1.10-rc.bin', { version: '1.10.0-rc.1' }),
          ],
        }),
      );
      expect(installs(d).name).to.equal('a-1.10.bin');
    });

    it('breaks version ties by securityVersion, then by name', () => {
      const tieSv = [candidate('x.bin', { version: '2.0.0', securityVersion: 1 }), candidate('y.bin', { version: '2.0.0', securityVersion: 3 })];
      expect(installs(decideUpdate(input({ candidates: tieSv }))).name).to.equal('y.bin');
      const tieName = [candidate('z.bin', { version: '2.0.0' }), candidate('m.bin', { version: '2.0.0' })];
      expect(installs(decideUpdate(input({ candidates: tieName }))).name).to.equal('m.bin');
    });

    it('honours the slot label when both the device and the target name one', () => {
      const candidates = [candidate('rootfs.img', { version: '3.0.0', slot: 'rootfs' }), candidate('boot.img', { version: '2.0.0', slot: 'boot' })];
      expect(installs(decideUpdate(input({ candidates, device: { hardwareId: 'board-a', kind: 'firmware', slot: 'boot' } }))).name).to.equal('boot.img');
      expect(installs(decideUpdate(input({ candidates }))).name).to.equal('rootfs.img');
      const unlabeled = [candidate('any.img', { version: '2.0.0' })];
      expect(installs(decideUpdate(input({ candidates: unlabeled, device: { hardwareId: 'board-a', kind: 'firmware', slot: 'boot' } }))).name).to.equal('any.img');
    });
  });

  describe('version and floors', () => {
    it('answers NO_UPDATE when the newest equals the installed version', () => {
      const d = decideUpdate(input({ installed: { version: '1.1.0', securityVersion: 1 } }));
      expect(d).to.include({ action: 'none', code: 'NO_UPDATE' });
    });

    it('installs anything compatible when nothing is installed yet', () => {
      const d = decideUpdate(input({ installed: null }));
      expect(installs(d).name).to.equal('fw-1.1.0.bin');
      expect(d.action === 'install' && d.reasons[1]).to.equal('version 1.1.0 (nothing installed yet)');
    });

    it('refuses ROLLBACK for an older version unless the downgrade policy allows it', () => {
      const older = input({ installed: { version: '1.2.0', securityVersion: 1 } });
      const d = decideUpdate(older);
      expect(d).to.include({ action: 'refuse', code: 'ROLLBACK' });
      expect(d.action === 'refuse' && d.target?.name).to.equal('fw-1.1.0.bin');
      const allowed = decideUpdate({ ...older, policy: { allowDowngrade: true } });
      expect(installs(allowed).name).to.equal('fw-1.1.0.bin');
      expect(allowed.action === 'install' && allowed.reasons[1]).to.equal('downgrade 1.2.0 → 1.1.0 allowed by policy');
    });

    it('refuses ROLLBACK below the TPM securityVersion floor, even with downgrades allowed', () => {
      const below = input({ floors: { securityVersion: 2 } });
      expect(decideUpdate(below)).to.include({ action: 'refuse', code: 'ROLLBACK' });
      expect(decideUpdate({ ...below, policy: { allowDowngrade: true } })).to.include({ action: 'refuse', code: 'ROLLBACK' });
      expect(installs(decideUpdate(input({ floors: { securityVersion: 1 } }))).name).to.equal('fw-1.1.0.bin');
    });
  });

  describe('floor step limit', () => {
    it('refuses FLOOR_VIOLATION when the securityVersion jumps past the largest single floor raise', () => {
      const at = (sv: number): GateInput => input({ floors: { securityVersion: 3 }, candidates: [candidate('fw-1.1.0.bin', { version: '1.1.0', securityVersion: sv })] });
      expect(installs(decideUpdate(at(3 + MAX_FLOOR_STEP))).name).to.equal('fw-1.1.0.bin');
      const d = decideUpdate(at(4 + MAX_FLOOR_STEP));
      expect(d).to.include({ action: 'refuse', code: 'FLOOR_VIOLATION' });
      expect(d.action === 'refuse' && d.message).to.contain(String(MAX_FLOOR_STEP));
      expect(decideUpdate({ ...at(4 + MAX_FLOOR_STEP), policy: { allowDowngrade: true } })).to.include({ code: 'FLOOR_VIOLATION' });
    });
  });

  describe('revocation', () => {
    for (const code of ['KEY_REVOKED', 'IMAGE_REVOKED', 'BELOW_MINIMUM_VERSION', 'REVOCATION_STALE'] as ErrorCode[]) {
      it(`refuses ${code} as the revocation step reports it, for the chosen target`, () => {
        const seen: string[] = [];
        const d = decideUpdate(
          input({
            revocation: (c) => {
              seen.push(c.name);
              return { ok: false, code, message: `revoked: ${c.name}` };
            },
          }),
        );
        expect(d).to.deep.include({ action: 'refuse', code, message: 'revoked: fw-1.1.0.bin' });
        expect(seen).to.deep.equal(['fw-1.1.0.bin']);
      });
    }

    it('checks the floor before revocation, so a rolled-back image is reported as ROLLBACK', () => {
      const d = decideUpdate(input({ floors: { securityVersion: 5 }, revocation: () => ({ ok: false, code: 'IMAGE_REVOKED', message: 'x' }) }));
      expect(d).to.include({ code: 'ROLLBACK' });
    });
  });

  describe('space', () => {
    it('refuses INSUFFICIENT_SPACE when the image plus the reserve does not fit', () => {
      expect(decideUpdate(input({ freeBytes: 999 }))).to.include({ action: 'refuse', code: 'INSUFFICIENT_SPACE' });
      expect(installs(decideUpdate(input({ freeBytes: 1000 }))).name).to.equal('fw-1.1.0.bin');
      expect(decideUpdate(input({ freeBytes: 1500, policy: { allowDowngrade: false, reserveBytes: 501 } }))).to.include({ code: 'INSUFFICIENT_SPACE' });
      expect(installs(decideUpdate(input({ freeBytes: 1500, policy: { allowDowngrade: false, reserveBytes: 500 } }))).name).to.equal('fw-1.1.0.bin');
    });
  });

  describe('maintenance window', () => {
    const windows = parseMaintenanceWindows(['Mon-Fri 02:00-04:00']);

    it('installs inside a window and says which', () => {
      const d = decideUpdate(input({ maintenanceWindows: windows }));
      expect(d.action === 'install' && d.reasons[5]).to.equal('inside maintenance window (mon,tue,wed,thu,fri 02:00-04:00 UTC)');
    });

    it('refuses OUTSIDE_MAINTENANCE_WINDOW outside every window', () => {
      const d = decideUpdate(input({ maintenanceWindows: windows, now: new Date('2026-03-04T04:00:00Z') }));
      expect(d).to.include({ action: 'refuse', code: 'OUTSIDE_MAINTENANCE_WINDOW' });
      expect(d.action === 'refuse' && d.message).to.contain('2026-03-04T04:00:00.000Z');
      expect(decideUpdate(input({ maintenanceWindows: windows, now: new Date('2026-03-07T03:00:00Z') }))).to.include({ code: 'OUTSIDE_MAINTENANCE_WINDOW' });
    });

    it('lets an operator override the window explicitly', () => {
      const d = decideUpdate(input({ maintenanceWindows: windows, now: new Date('2026-03-07T03:00:00Z'), policy: { allowDowngrade: false, ignoreMaintenanceWindow: true } }));
      expect(d.action === 'install' && d.reasons[5]).to.equal('maintenance window overridden by operator');
    });

    it('checks space before the window, so the first blocking reason is the one a person must fix first', () => {
      const d = decideUpdate(input({ maintenanceWindows: windows, now: new Date('2026-03-07T03:00:00Z'), freeBytes: 1 }));
      expect(d).to.include({ code: 'INSUFFICIENT_SPACE' });
    });
  });

  // issue 11 B (P7): a release whose boot chain measures differently is armed only with its signed PCR policy
  describe('signed PCR policy for a boot-chain change', () => {
    const chainChange = [candidate('fw-1.1.0.bin', { version: '1.1.0', pcrPolicyGeneration: 3 })];
    const authority = (cached: number[], revoked: number[] = []): GateInput['pcrPolicies'] => ({ sealedTo: 'authority', cached: new Set(cached), revoked: new Set(revoked) });

    it('arms it when the policy of the generation it names is cached and not revoked, and says so', () => {
      const d = decideUpdate(input({ candidates: chainChange, pcrPolicies: authority([2, 3]) }));
      expect(installs(d).name).to.equal('fw-1.1.0.bin');
      expect(d.action === 'install' && d.reasons).to.include('signed PCR policy generation 3 cached');
    });

    it('refuses PCR_POLICY_MISSING without that generation, naming what it found', () => {
      const d = decideUpdate(input({ candidates: chainChange, pcrPolicies: authority([1, 2]) }));
      expect(d).to.include({ action: 'refuse', code: 'PCR_POLICY_MISSING' });
      expect(d.action === 'refuse' && d.message).to.equal(
        "fw-1.1.0.bin changes measured boot components: expected a cached signed PCR policy of generation 3 for this device's authority and PCR selection, found generations 1, 2 only; arming it would leave the next boot unable to unseal the anchor",
      );
      expect(decideUpdate(input({ candidates: chainChange, pcrPolicies: authority([]) }))).to.include({ code: 'PCR_POLICY_MISSING' });
    });

    it('refuses a revoked generation and a plain PolicyPCR anchor (no signed policy opens it)', () => {
      const revoked = decideUpdate(input({ candidates: chainChange, pcrPolicies: authority([3], [1, 2, 3]) }));
      expect(revoked.action === 'refuse' && [revoked.code, revoked.message.includes('generation 3 revoked on this TPM')]).to.deep.equal(['PCR_POLICY_MISSING', true]);
      for (const pcrPolicies of [{ sealedTo: 'pcr' } as const, undefined]) {
        const d = decideUpdate(input({ candidates: chainChange, ...(pcrPolicies ? { pcrPolicies } : {}) }));
        expect(d.action === 'refuse' && [d.code, d.message.includes('plain PolicyPCR')]).to.deep.equal(['PCR_POLICY_MISSING', true]);
      }
    });

    it('leaves a release that names no generation alone, whatever the device is sealed to', () => {
      expect(installs(decideUpdate(input({ pcrPolicies: { sealedTo: 'pcr' } }))).name).to.equal('fw-1.1.0.bin');
    });
  });
});
