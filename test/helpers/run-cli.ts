import { dispatch } from '../../src/cli/dispatch.js';

// Runs `edgeseal …` in-process through the real dispatcher and captures what it printed, line by line.
export async function captureCli(argv: readonly string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await dispatch([...argv], { out: (l) => out.push(l), err: (l) => err.push(l), isTTY: false });
  return { code, out, err };
}

// The same, with each stream joined into one string (for `include`/`match` assertions).
export async function runCli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const { code, out, err } = await captureCli(argv);
  return { code, out: out.join('\n'), err: err.join('\n') };
}
