import type { ImageStatus } from './agent-state.js';

// Human-readable lines for the CLI and the demo: aligned columns, ✔/✘, codes, shortened digests.

export const short = (hex: string | undefined, n = 12): string => (hex ? `${hex.slice(0, n)}…` : '-');

export function imageLine(s: ImageStatus, width = 28): string {
  const where = s.slot ? `slot ${s.slot}` : 'fixed';
  const name = s.target.padEnd(width);
  if (s.verdict === 'verified') return `  ✔ ${name} ${(s.version ?? '').padEnd(8)} ${where.padEnd(6)} sha256 ${short(s.sha256)}  keys ${(s.keyids ?? []).map((k) => short(k, 8)).join(',')}`;
  return `  ✘ ${name} ${'-'.padEnd(8)} ${where.padEnd(6)} [${s.code ?? '?'}] ${s.message ?? ''}`;
}

export function imageLines(images: readonly ImageStatus[]): string[] {
  const width = Math.max(20, ...images.map((i) => i.target.length));
  return images.map((i) => imageLine(i, width));
}
