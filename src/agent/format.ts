import type { ImageStatus } from './agent-state.js';

// Human-readable lines for the CLI and the demo: aligned columns, ✔/✘, codes, shortened digests.

export const short = (hex: string | undefined, n = 12): string => (hex ? `${hex.slice(0, n)}…` : '-');

// Messages quote full sha256 digests; on a screen the first 12 hex digits tell them apart.
export const shortenDigests = (text: string): string => text.replace(/\b[0-9a-f]{64}\b/g, (d) => short(d));

export function imageLine(s: ImageStatus, width = 28): string {
  const where = s.slot ? `slot ${s.slot}` : 'fixed';
  const name = s.target.padEnd(width);
  if (s.verdict === 'verified') return `  ✔ ${name} ${(s.version ?? '').padEnd(8)} ${where.padEnd(6)} sha256 ${short(s.sha256)}  keys ${(s.keyids ?? []).map((k) => short(k, 8)).join(',')}`;
  return `  ✘ ${name} ${'-'.padEnd(8)} ${where.padEnd(6)} [${s.code ?? '?'}] ${shortenDigests(s.message ?? '')}`;
}

export function imageLines(images: readonly ImageStatus[]): string[] {
  const width = Math.max(20, ...images.map((i) => i.target.length));
  return images.map((i) => imageLine(i, width));
}
