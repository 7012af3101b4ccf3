import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

// GRUB itself, for tests: grub-emu (Debian grub-emu) runs docs/bootloader/grub/edgeseal-select.cfg
// against a grubenv inside an ext2 image, as GRUB does on a board (save_env writes the block in place,
// which GRUB refuses on a host file). The agent side keeps a host grubenv that grub-editenv edits; each
// boot copies it into the image (debugfs), runs the snippet, and copies it back.
export const SELECT_CFG = fileURLToPath(new URL('../../../docs/bootloader/grub/edgeseal-select.cfg', import.meta.url));

export interface GrubBoard {
  readonly env: string; // the host grubenv the agent's selector edits with grub-editenv
  boot(): Promise<string>; // one power-on: the slot GRUB chose
}

export async function grubBoard(dir: string): Promise<GrubBoard> {
  const env = join(dir, 'grubenv');
  const image = join(dir, 'boot.img');
  await run('grub-editenv', [env, 'create']);
  await run('mke2fs', ['-q', '-F', '-t', 'ext2', '-b', '1024', image, '2048']);
  await writeFile(join(dir, 'device.map'), `(hd0) ${image}\n`);
  const snippet = await readFile(SELECT_CFG, 'utf8');
  await writeFile(join(dir, 'grub.cfg'), `set edgeseal_env=(hd0)/grubenv\n${snippet}\necho "EDGESEAL_BOOTED=\${edgeseal_booted}"\nreboot\n`);
  await writeFile(join(dir, 'debugfs.cmds'), `rm grubenv\nwrite ${env} grubenv\n`);
  return {
    env,
    async boot() {
      await run('debugfs', ['-w', '-f', join(dir, 'debugfs.cmds'), image]);
      const { stdout } = await run('grub-emu', ['-d', dir, '-r', 'host', '-m', join(dir, 'device.map')], { timeout: 20_000 });
      await run('debugfs', ['-R', `dump /grubenv ${env}`, image]);
      const booted = /EDGESEAL_BOOTED=([A-Z]*)/.exec(stdout)?.[1];
      if (!booted) throw new Error(`grub-emu printed no slot: ${stdout.slice(-500)}`);
      return booted;
    },
  };
}
