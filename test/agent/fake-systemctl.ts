import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

// A `systemctl` for tests, put first on PATH: `is-active UNIT` answers from the file active-units in
// its directory (one unit per line), printing active/inactive and exiting 0/3 as systemd does.
export async function installFakeSystemctl(binDir: string, active: readonly string[]): Promise<void> {
  await writeFile(join(binDir, 'active-units'), active.map((u) => `${u}\n`).join(''));
  const script = ['#!/bin/sh', '[ "$1" = is-active ] || { echo "fake systemctl: only is-active" >&2; exit 64; }', 'if grep -qxF "$2" "$(dirname "$0")/active-units"; then echo active; exit 0; fi', 'echo inactive; exit 3', ''];
  await writeFile(join(binDir, 'systemctl'), script.join('\n'));
  await chmod(join(binDir, 'systemctl'), 0o755);
}
