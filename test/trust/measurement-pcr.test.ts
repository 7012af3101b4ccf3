import { expect } from 'chai';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT, type CliIo } from '../../src/cli/command.js';
import { dispatch } from '../../src/cli/dispatch.js';
import { DEFAULT_MEASUREMENT_PCR } from '../../src/trust/event-log.js';
import { checkMeasurementPcr } from '../../src/trust/measurement-pcr.js';
import { DEFAULT_POLICY_PCRS, parsePcrSelection } from '../../src/trust/pcr-selection.js';
import { encodeDeviceIdentity, trustPaths } from '../../src/trust/state-files.js';
import { DEFAULT_NV_INDICES } from '../../src/trust/nv-layout.js';
import { expectCode } from '../helpers/expect-code.js';

function capture(): CliIo & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l), isTTY: false };
}

describe('measurement PCR choice (P4)', () => {
  const sealed = parsePcrSelection(DEFAULT_POLICY_PCRS);

  it('the default is outside the default seal set, not resettable at locality 0 and not the boot chain’s', () => {
    expect(DEFAULT_MEASUREMENT_PCR).to.equal(6);
    expect(checkMeasurementPcr(DEFAULT_MEASUREMENT_PCR, sealed)).to.deep.equal([]);
  });

  it('refuses a PCR of the seal set or one locality 0 cannot extend; warns for 16/23 and 8–15', () => {
    expectCode(() => checkMeasurementPcr(7, sealed), 'CONFIG_INVALID');
    expectCode(() => checkMeasurementPcr(6, parsePcrSelection('sha256:0,6,7')), 'CONFIG_INVALID');
    expectCode(() => checkMeasurementPcr(17, sealed), 'CONFIG_INVALID');
    expect(checkMeasurementPcr(23, sealed)[0]).to.contain('reset by TPM2_PCR_Reset at locality 0');
    expect(checkMeasurementPcr(16, undefined)[0]).to.contain('reset by TPM2_PCR_Reset at locality 0');
    expect(checkMeasurementPcr(10, sealed)[0]).to.contain('boot chain');
  });

  it('config check: exit 2 when tpm.measurePcr is in the provisioned seal set; PCR 23 (older devices) passes with a warning', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edgeseal-measure-pcr-'));
    const stateDir = join(dir, 'state');
    await mkdir(trustPaths(stateDir).dir, { recursive: true });
    const identity = { deviceId: 'dev-1', hardwareId: 'board-a', reportPublicKey: 'ab', reportKeyId: 'cd', nvIndices: DEFAULT_NV_INDICES, policyPcrs: 'sha256:0,2,4,6,7', provisionedAt: '2026-01-01T00:00:00.000Z' };
    await writeFile(trustPaths(stateDir).device, encodeDeviceIdentity(identity));
    const config = (measurePcr?: number) => ({
      deviceId: 'dev-1',
      hardwareId: 'board-a',
      stateDir,
      tpm: measurePcr === undefined ? {} : { measurePcr },
      images: [{ target: 'firmware/board-a.bin', path: '/var/lib/edgeseal/fw.bin', kind: 'firmware' }],
    });
    const path = join(dir, 'config.json');
    await writeFile(path, JSON.stringify(config()));
    const bad = capture();
    expect(await dispatch(['config', 'check', '--config', path], bad)).to.equal(EXIT.USAGE);
    expect(bad.errors.join('\n')).to.contain('CONFIG_INVALID').and.contain('outside the seal set sha256:0,2,4,6,7');
    await writeFile(path, JSON.stringify(config(23)));
    const old = capture();
    expect(await dispatch(['config', 'check', '--config', path], old)).to.equal(EXIT.OK);
    expect(old.lines.join('\n')).to.contain('measure into PCR 23');
    expect(old.errors.join('\n')).to.contain('warning: tpm.measurePcr 23 is reset by TPM2_PCR_Reset at locality 0');
  });
});
