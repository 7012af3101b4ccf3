import { expect } from 'chai';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/run-cli.js';
import { FW_ENV } from '../units/unit-configs.js';

// `edgeseal systemd-units`: the adapter reads the config and fw_env.config and writes what the generator returns.
describe('edgeseal systemd-units', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'es-units-cli-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const uboot = (env: string): object => ({
    deviceId: 'dev-1',
    hardwareId: 'board-a',
    images: [{ target: 'rootfs.img', kind: 'os' }],
    update: { slots: { a: '/dev/mmcblk0p2', b: '/dev/mmcblk0p3' }, bootSelector: { commands: { print: ['fw_printenv', '-c', env], set: ['fw_setenv', '-c', env], setStyle: 'pair' } } },
  });

  it('--output writes both drop-ins and the TPM device timeout, reading fw_env.config from the argv', async () => {
    await writeFile(join(dir, 'fw_env.config'), FW_ENV.text);
    await writeFile(join(dir, 'config.json'), JSON.stringify(uboot(join(dir, 'fw_env.config'))));
    const out = join(dir, 'units');
    const r = await runCli('systemd-units', '--config', join(dir, 'config.json'), '--output', out);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.contain(`wrote ${join(out, 'edgeseal-agent.service.d/50-slots.conf')}`);
    const agent = await readFile(join(out, 'edgeseal-agent.service.d/50-slots.conf'), 'utf8');
    expect(agent).to.match(/^DeviceAllow=\/dev\/mmcblk0p2 rw$/m).and.match(/^DeviceAllow=\/dev\/mmcblk0 rw$/m).and.match(/^ReadWritePaths=-\/var\/lock$/m);
    expect(await readFile(join(out, 'edgeseal-boot-check.service.d/50-slots.conf'), 'utf8')).to.match(/^DeviceAllow=\/dev\/mmcblk0p2 r$/m);
    expect(await readFile(join(out, 'dev-tpmrm0.device.d/50-edgeseal-timeout.conf'), 'utf8')).to.match(/^JobTimeoutSec=15s$/m);
  });

  it('without --output prints the files; a missing fw_env.config or a hostile path is exit 2 naming it', async () => {
    await writeFile(join(dir, 'config.json'), JSON.stringify(uboot(join(dir, 'missing.config'))));
    const missing = await runCli('systemd-units', '--config', join(dir, 'config.json'));
    expect(missing.code).to.equal(2);
    expect(missing.err).to.contain('CONFIG_INVALID').and.contain(join(dir, 'missing.config'));
    const printed = await runCli('systemd-units', '--config', join(dir, 'config.json'), '--fw-env-config', await writeEnv(dir));
    expect(printed.code, printed.err).to.equal(0);
    expect(printed.out).to.contain('### edgeseal-agent.service.d/50-slots.conf').and.contain('### edgeseal-boot-check.service.d/50-slots.conf');
    await writeFile(join(dir, 'bad.json'), JSON.stringify({ deviceId: 'd', hardwareId: 'h', images: [{ target: 'x', path: '/dev/disk/by-label/my disk', kind: 'app' }] }));
    const hostile = await runCli('systemd-units', '--config', join(dir, 'bad.json'));
    expect(hostile.code).to.equal(2);
    expect(hostile.err).to.contain('images[0].path').and.contain('"/dev/disk/by-label/my disk"');
  });
});

async function writeEnv(dir: string): Promise<string> {
  await writeFile(join(dir, 'env.config'), FW_ENV.text);
  return join(dir, 'env.config');
}
