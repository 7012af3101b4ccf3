import { expect } from 'chai';
import { decideUpdate, type GateCandidate, type GateInput } from '../../src/core/gate.js';
import { enforceRevocation, gateRevocationStep } from '../../src/revocation/enforce.js';
import { RevocationStore, type RevocationStatus } from '../../src/revocation/store.js';
import { at, BAD_DIGEST, KEY_A, KEY_B, makeList, signedBytes } from './make-list.js';

const BOARD = 'board-a';

function candidate(name: string, version: string, sha256 = 'e'.repeat(64), keyids = [KEY_B]): GateCandidate {
  return { name, length: 100, sha256, custom: { hardwareIds: [BOARD], version, securityVersion: 1, kind: 'firmware' }, signedBy: { role: 'targets', keyids } };
}

function gate(candidates: GateCandidate[], status: RevocationStatus, now: Date): ReturnType<typeof decideUpdate> {
  const input: GateInput = {
    candidates,
    device: { hardwareId: BOARD, kind: 'firmware' },
    installed: { version: '1.0.0', securityVersion: 1 },
    floors: { securityVersion: 1 },
    revocation: gateRevocationStep(status, BOARD),
    freeBytes: 10_000,
    maintenanceWindows: [],
    policy: { allowDowngrade: false },
    now,
  };
  return decideUpdate(input);
}

// A store holding one list issued 2026-01-01, expiring 2026-02-01 (grace 7 days), seen at `now`.
function held(now: string, over: Parameters<typeof makeList>[0] = {}): RevocationStatus {
  const s = new RevocationStore({ graceDays: 7 });
  const { bytes, info } = signedBytes(makeList({ version: 2, ...over }));
  s.update(bytes, info, at('2026-01-02T00:00:00Z'));
  return s.current(at(now));
}

describe('revocation enforcement in the OTA gate and the boot check', () => {
  const now = at('2026-01-10T00:00:00Z');

  it('the gate refuses a candidate signed only by a revoked key (KEY_REVOKED) and installs a clean one', () => {
    const status = held('2026-01-10T00:00:00Z', { keys: [{ keyid: KEY_A, reason: 'leaked' }] });
    expect(gate([candidate('fw-1.1.bin', '1.1.0', undefined, [KEY_A])], status, now)).to.include({ action: 'refuse', code: 'KEY_REVOKED' });
    expect(gate([candidate('fw-1.1.bin', '1.1.0')], status, now)).to.include({ action: 'install' });
  });

  it('the gate refuses a revoked digest (IMAGE_REVOKED) and a version below the minimum (BELOW_MINIMUM_VERSION)', () => {
    const status = held('2026-01-10T00:00:00Z', { digests: [{ sha256: BAD_DIGEST }], minimumVersions: [{ target: 'fw-*', version: '1.2.0' }] });
    expect(gate([candidate('fw-1.3.bin', '1.3.0', BAD_DIGEST)], status, now)).to.include({ action: 'refuse', code: 'IMAGE_REVOKED' });
    expect(gate([candidate('fw-1.1.bin', '1.1.0')], status, now)).to.include({ action: 'refuse', code: 'BELOW_MINIMUM_VERSION' });
    expect(gate([candidate('fw-1.2.bin', '1.2.0')], status, now)).to.include({ action: 'install' });
  });

  it('past expiry and grace the gate blocks updates (REVOCATION_STALE) while boot proceeds with an alarm', () => {
    const status = held('2026-03-01T00:00:00Z');
    expect(gate([candidate('fw-1.1.bin', '1.1.0')], status, at('2026-03-01T00:00:00Z'))).to.include({ action: 'refuse', code: 'REVOCATION_STALE' });
    const boot = enforceRevocation(status, 'boot', { targetName: 'fw-1.0.bin', sha256: 'e'.repeat(64), version: '1.0.0', hardwareId: BOARD, keyids: [KEY_B] });
    expect(boot).to.include({ ok: true, level: 'alarm' });
  });

  it('an expired list is still enforced at boot: a revoked installed image is refused', () => {
    const status = held('2026-03-01T00:00:00Z', { digests: [{ sha256: BAD_DIGEST }] });
    const boot = enforceRevocation(status, 'boot', { targetName: 'fw-1.0.bin', sha256: BAD_DIGEST, version: '1.0.0', hardwareId: BOARD, keyids: [KEY_B] });
    expect(boot).to.include({ ok: false, code: 'IMAGE_REVOKED' });
  });

  it('within the grace period both operations enforce the list with a warning', () => {
    const status = held('2026-02-03T00:00:00Z');
    const subject = { targetName: 'fw-1.0.bin', sha256: 'e'.repeat(64), version: '1.0.0', hardwareId: BOARD, keyids: [KEY_B] };
    expect(enforceRevocation(status, 'update', subject)).to.include({ ok: true, level: 'warn' });
    expect(enforceRevocation(status, 'boot', subject)).to.include({ ok: true, level: 'warn' });
  });
});
