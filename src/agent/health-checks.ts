import { spawn } from 'node:child_process';
import type { AgentConfig } from '../config/schema.js';
import type { HealthResult } from '../ota/install.js';

// The health checks of a trial boot (ARCHITECTURE P8, docs/health.md): each command as argv without a
// shell (under update.health.runVia, so it runs outside the agent's sandbox), then each unit through
// `systemctl is-active UNIT`, in order, all within one deadline. The first failure is the verdict.

export type HealthConfig = AgentConfig['update']['health'];

const TAIL = 200; // bytes of a failing check's output kept for the rollback event

export function hasHealthChecks(cfg: HealthConfig): boolean {
  return cfg.checks.length > 0 || cfg.units.length > 0;
}

export async function runHealthChecks(cfg: HealthConfig): Promise<HealthResult> {
  const end = Date.now() + cfg.deadlineSeconds * 1000;
  const all = [
    ...cfg.checks.map((c) => ({ name: c.name, argv: [...cfg.runVia, ...c.argv] })),
    ...cfg.units.map((u) => ({ name: `unit ${u}`, argv: ['systemctl', 'is-active', u] })),
  ];
  for (const c of all) {
    const left = end - Date.now();
    if (left <= 0) return { ok: false, check: c.name, message: `expected it to run within the ${cfg.deadlineSeconds}s health deadline, found the deadline passed` };
    const problem = await runCheck(c.argv, left, cfg.deadlineSeconds);
    if (problem) return { ok: false, check: c.name, message: problem };
  }
  return { ok: true };
}

// Why one check failed, or undefined when it exited 0 in time.
function runCheck(argv: readonly string[], timeoutMs: number, deadlineSeconds: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const keep = (d: Buffer): void => void (out = (out + d.toString()).slice(-TAIL));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve(`expected to start ${argv[0]}, found ${err.message}`);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const said = out.trim() ? `: ${out.trim()}` : '';
      if (late) resolve(`expected exit 0 within the ${deadlineSeconds}s health deadline, found it still running (killed)${said}`);
      else if (code !== 0) resolve(`expected exit 0, found ${signal ? `signal ${signal}` : `exit ${code}`}${said}`);
      else resolve(undefined);
    });
  });
}
