import { spawn } from 'node:child_process';
import { MAIN, type Finished } from '../agent/cli-child.js';

// Runs the real CLI with `input` on stdin (fleet enroll reads JSON lines there).
export function runCliWithInput(args: string[], input: string): Promise<Finished> {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdin.end(input);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, out, err }));
  });
}
