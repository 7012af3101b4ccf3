import { expect } from 'chai';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT, type CliIo } from '../../src/cli/command.js';
import { dispatch } from '../../src/cli/dispatch.js';
import { TpmClient } from '../../src/tpm/client.js';
import { establishTrust } from '../../src/trust/establish.js';
import { anchorFiles } from '../../src/trust/state-files.js';
import { startSwtpm, type Swtpm } from '../helpers/swtpm.js';
import { rootJson } from './tpm-fixture.js';

// Finding 4: a provisioned state dir pointed at a fresh TPM (the board's TPM swapped, cleared, or the
// wrong --tpm-* option) must not lose its anchors, or the real TPM answers ANCHOR_MISMATCH forever.

async function snapshot(stateDir: string): Promise<Record<string, string>> {
  const files = Object.entries(anchorFiles(stateDir));
  return Object.fromEntries(await Promise.all(files.map(async ([k, p]) => [k, (await readFile(p)).toString('base64')] as const)));
}

describe('provision over existing anchor files (two real swtpms)', function () {
  this.timeout(60_000);
  let original: Swtpm;
  let fresh: Swtpm;
  let dir: string;
  before(async () => {
    [original, fresh] = await Promise.all([startSwtpm(), startSwtpm()]);
    dir = await mkdtemp(join(tmpdir(), 'edgeseal-prov-'));
    await writeFile(join(dir, 'root.json'), rootJson(1));
  });
  after(async () => {
    await Promise.all([original?.stop(), fresh?.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  const provisionOn = async (tpm: Swtpm, ...extra: string[]): Promise<{ code: number; err: string }> => {
    const errors: string[] = [];
    const io: CliIo = { out: () => undefined, err: (l) => errors.push(l), isTTY: false };
    const argv = ['provision', '--root', join(dir, 'root.json'), '--hardware-id', 'board-a', '--tpm-swtpm', tpm.address, '--state-dir', join(dir, 'state'), ...extra];
    return { code: await dispatch(argv, io), err: errors.join('\n') };
  };
  const bootsOn = async (tpm: Swtpm): Promise<string> => {
    const client = await TpmClient.open({ swtpm: tpm.address });
    try {
      return (await establishTrust({ tpm: client, stateDir: join(dir, 'state') })).identity.deviceId;
    } finally {
      await client.close();
    }
  };

  it('refuses (ANCHOR_EXISTS, exit 2) against a fresh TPM, leaves the files untouched for the original TPM; --force proceeds', async () => {
    expect((await provisionOn(original)).code).to.equal(EXIT.OK);
    const deviceId = await bootsOn(original);
    const before = await snapshot(join(dir, 'state'));

    expect((await provisionOn(original)).code, 'identical re-run: the documented no-op').to.equal(EXIT.OK);
    expect(await snapshot(join(dir, 'state'))).to.deep.equal(before);

    const refused = await provisionOn(fresh);
    expect(refused.code).to.equal(EXIT.USAGE);
    expect(refused.err).to.contain('[ANCHOR_EXISTS]').and.contain('initial-root.json').and.contain('--force');
    expect(await snapshot(join(dir, 'state'))).to.deep.equal(before);
    expect(await bootsOn(original), 'the original TPM still boots with the kept anchors').to.equal(deviceId);

    expect((await provisionOn(fresh, '--force')).code).to.equal(EXIT.OK);
    expect(await snapshot(join(dir, 'state'))).not.to.deep.equal(before);
    expect(await bootsOn(fresh)).not.to.equal(deviceId);
  });
});
