import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const UNITS = ['edgeseal-agent.service', 'edgeseal-boot-check.service', 'edgeseal-verified.target'];

async function unit(name: string): Promise<string> {
  return readFile(new URL(`../../../systemd/${name}`, import.meta.url), 'utf8');
}

describe('systemd units', () => {
  it('pass systemd-analyze verify (with ExecStart pointed at an executable that exists here)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'es-units-'));
    try {
      const paths: string[] = [];
      for (const name of UNITS) {
        const text = (await unit(name)).replaceAll('/usr/bin/edgeseal', process.execPath);
        await writeFile(join(dir, name), text);
        paths.push(join(dir, name));
      }
      const { stdout, stderr } = await run('systemd-analyze', ['verify', ...paths]).catch((err: { stdout: string; stderr: string }) => err);
      const complaints = `${stdout}${stderr}`.split('\n').filter((l) => l.includes('edgeseal'));
      expect(complaints).to.deep.equal([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('declare the notify protocol, watchdog and hardening the agent relies on', async () => {
    const agent = await unit('edgeseal-agent.service');
    for (const line of ['Type=notify', 'WatchdogSec=', 'Restart=on-failure', 'ProtectSystem=strict', 'ReadWritePaths=/var/lib/edgeseal', 'RuntimeDirectory=edgeseal', 'RuntimeDirectoryPreserve=yes', 'NoNewPrivileges=yes', 'DeviceAllow=/dev/tpmrm0', 'PrivateTmp=yes', 'CapabilityBoundingSet=']) {
      expect(agent, line).to.contain(line);
    }
    // sd_notify goes through systemd-notify (a child of the agent); with no capabilities the units open the TPM as group tss
    expect(agent).to.match(/^NotifyAccess=all$/m).and.match(/^SupplementaryGroups=tss$/m);
    const check = await unit('edgeseal-boot-check.service');
    expect(check).to.contain('Type=oneshot');
    // the spool a read-only state dir leaves in /run/edgeseal must outlive the oneshot for the agent to drain
    expect(check).to.contain('RuntimeDirectory=edgeseal').and.contain('RuntimeDirectoryPreserve=yes');
    expect(check).to.match(/^Before=.*edgeseal-agent\.service/m);
  });

  it('order after the TPM device with Wants= (never Requires=) and a bounded device job, on systemd 252 too', async () => {
    for (const name of ['edgeseal-agent.service', 'edgeseal-boot-check.service']) {
      const text = await unit(name);
      // tpm2.target exists only from systemd 256: the device unit (udev tags tpmrm* "systemd") is what 252 has
      expect(text, name).to.match(/^Wants=.*\bdev-tpmrm0\.device\b/m).and.match(/^After=.*\bdev-tpmrm0\.device\b/m);
      expect(text, name).to.not.match(/^(Requires|BindsTo|Requisite)=.*(dev-tpmrm0|tpm2\.target)/m);
    }
    // without it the device job waits DefaultDeviceTimeoutSec= (90 s) before TPM_UNREACHABLE
    expect(await unit('dev-tpmrm0.device.d/50-edgeseal-timeout.conf')).to.match(/^\[Unit\]$/m).and.match(/^JobTimeoutSec=15s$/m);
  });

  it('never send a refused boot to an emergency shell: the agent still starts, only units requiring edgeseal-verified.target stay down', async () => {
    const check = await unit('edgeseal-boot-check.service');
    expect(check).to.not.match(/^OnFailure=/m);
    const agent = await unit('edgeseal-agent.service');
    expect(agent).to.not.match(/^Requires=.*edgeseal-boot-check/m);
    expect(agent).to.match(/^Wants=.*edgeseal-boot-check\.service/m).and.match(/^After=.*edgeseal-boot-check\.service/m);
    const target = await unit('edgeseal-verified.target');
    expect(target).to.match(/^Requires=edgeseal-boot-check\.service$/m).and.match(/^After=edgeseal-boot-check\.service$/m);
  });
});
