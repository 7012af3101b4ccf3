// Inclusive sequence-number ranges [from, to], kept sorted, disjoint and merged (adjacent ranges join).
export type SeqRange = [number, number];

export function mergeRanges(ranges: Iterable<SeqRange>): SeqRange[] {
  const sorted = [...ranges].map(([a, b]): SeqRange => [a, b]).sort((x, y) => x[0] - y[0]);
  const out: SeqRange[] = [];
  for (const [a, b] of sorted) {
    const last = out.at(-1);
    if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

export const rangesOf = (seqs: Iterable<number>): SeqRange[] => mergeRanges([...seqs].map((s): SeqRange => [s, s]));

// What remains of `ranges` once every seq in `minus` is taken out.
export function subtractRanges(ranges: readonly SeqRange[], minus: readonly SeqRange[]): SeqRange[] {
  let rest = mergeRanges(ranges);
  for (const [c, d] of mergeRanges(minus)) {
    rest = rest.flatMap(([a, b]): SeqRange[] => {
      if (d < a || c > b) return [[a, b]];
      return [...(c > a ? [[a, c - 1] as SeqRange] : []), ...(d < b ? [[d + 1, b] as SeqRange] : [])];
    });
  }
  return rest;
}

export const rangesSize = (ranges: readonly SeqRange[]): number => ranges.reduce((n, [a, b]) => n + b - a + 1, 0);
