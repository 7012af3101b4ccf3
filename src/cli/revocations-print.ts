import type { RevocationList } from '../revocation/list.js';
import type { CliIo } from './command.js';

// Human lines for a revocation list, shared by `repo revocations` (publisher) and `revocations status` (device).

const notes = (e: { reason?: string; reference?: string }): string => `${e.reason ? `  reason: ${e.reason}` : ''}${e.reference ? `  ref: ${e.reference}` : ''}`;

// One line per entry, grouped by kind.
export function printEntries(io: CliIo, list: RevocationList): void {
  io.out(`keys revoked (${list.keys.length}):`);
  for (const k of list.keys) io.out(`  ${k.keyid}${notes(k)}`);
  io.out(`images revoked (${list.digests.length}):`);
  for (const d of list.digests) io.out(`  sha256:${d.sha256}${notes(d)}`);
  io.out(`minimum versions (${list.minimumVersions.length}):`);
  for (const m of list.minimumVersions) io.out(`  ${m.target}${m.hardwareId ? ` on ${m.hardwareId}` : ''} ≥ ${m.version}${notes(m)}`);
}
