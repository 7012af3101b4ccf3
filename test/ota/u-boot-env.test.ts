import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CommandBootSelector } from '../../src/ota/boot-selector-command.js';

const run = promisify(execFile);
const ENV_TXT = fileURLToPath(new URL('../../../docs/bootloader/u-boot/edgeseal-env.txt', import.meta.url));

// The U-Boot reference environment (docs/bootloader/u-boot/edgeseal-env.txt) built into a real env
// image (mkenvimage, u-boot-tools) and driven by the agent's fw_setenv selector (libubootenv-tool).
// U-Boot's hush itself does not run here: bootcmd's logic is checked on paper (docs/health.md).
describe('U-Boot reference environment and the fw_setenv boot selector', function () {
  this.timeout(30_000);

  const board = async (): Promise<{ sel: CommandBootSelector; env: () => Promise<Map<string, string>>; set: (k: string, v: string) => Promise<unknown> }> => {
    const dir = await mkdtemp(join(tmpdir(), 'es-uboot-'));
    const image = join(dir, 'uboot.env');
    const config = join(dir, 'fw_env.config');
    await run('mkenvimage', ['-s', '0x4000', '-o', image, ENV_TXT]);
    await writeFile(config, `${image} 0x0000 0x4000\n`);
    const env = async (): Promise<Map<string, string>> => {
      const { stdout } = await run('fw_printenv', ['-c', config]);
      return new Map(stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string]));
    };
    const sel = new CommandBootSelector({ print: ['fw_printenv', '-c', config], set: ['fw_setenv', '-c', config], setStyle: 'pair' });
    return { sel, env, set: (k, v) => run('fw_setenv', ['-c', config, k, v]) };
  };

  it('builds into an environment that holds the boot counter settings and a try-count branch for every update.maxTries (1–10)', async () => {
    const env = await (await board()).env();
    for (const k of ['bootcmd', 'altbootcmd', 'bootlimit', 'upgrade_available', 'bootcount', 'edgeseal_select', 'edgeseal_spend', 'edgeseal_trial', 'edgeseal_boot']) expect(env.has(k), k).to.equal(true);
    expect(env.get('bootcmd')).to.equal('run edgeseal_select; run edgeseal_boot');
    for (let n = 1; n <= 10; n++) expect(env.get('edgeseal_spend')).to.contain(`test "\${edgeseal_tries}" = "${n}"; then setenv edgeseal_tries ${n - 1}; run edgeseal_trial;`);
    // altbootcmd ends a trial without clearing edgeseal_try: the agent must see a spent trial, not an unarmed one
    expect(env.get('altbootcmd')).to.contain('setenv edgeseal_tries 0').and.not.contain('setenv edgeseal_try;');
  });

  it("the agent's selector arms, reads and commits through fw_setenv without touching the snippet's variables", async () => {
    const { sel, env, set } = await board();
    // what the first boot's edgeseal_select saves
    await set('edgeseal_good', 'A');
    await set('edgeseal_booted', 'A');
    const before = await env();
    await sel.setTryOnce('B', 3);
    expect(await sel.state()).to.deep.equal({ active: 'A', good: 'A', trySlot: 'B', tryCount: 3 });
    // the bootloader's part of a trial boot (edgeseal_select with tries 3), as saveenv leaves it
    await set('edgeseal_tries', '2');
    await set('edgeseal_booted', 'B');
    await set('upgrade_available', '1');
    expect(await sel.state()).to.deep.equal({ active: 'B', good: 'A', trySlot: 'B', tryCount: 2 });
    await sel.markGood('B');
    expect(await sel.state()).to.deep.equal({ active: 'B', good: 'B', trySlot: null, tryCount: 0 });
    const after = await env();
    expect(after.has('edgeseal_try'), 'fw_setenv with no value deletes the variable').to.equal(false);
    for (const k of ['bootcmd', 'altbootcmd', 'edgeseal_select', 'edgeseal_spend', 'edgeseal_boot', 'bootlimit']) expect(after.get(k), k).to.equal(before.get(k));
  });
});
