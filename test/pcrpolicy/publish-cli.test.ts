import { expect } from 'chai';
import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT } from '../../src/cli/command.js';
import { cachePcrPolicies } from '../../src/pcrpolicy/cache.js';
import { namedPcrPolicies, PCR_POLICY_TYPE } from '../../src/pcrpolicy/targets.js';
import { nodeCacheFs } from '../../src/tuf/cache/cache-fs.js';
import { readMetadataDir } from '../../src/tuf/metadata-files.js';
import { loadTrustedMetadata } from '../../src/tuf/offline/load-trusted.js';
import { listTargets } from '../../src/tuf/offline/verify-image.js';
import { createDeviceUpdater, sourceAt } from '../../src/tuf/updater.js';
import { decodePcrPolicy } from '../../src/trust/pcr-policy.js';
import { runCli as edgeseal } from '../helpers/run-cli.js';

// The publisher's workflow as docs/signed-pcr-policies.md gives it: `repo pcr-policy sign --dir` lists
// the signed policy as a TUF target, `repo add-target --pcr-policy-generation` marks the release that
// needs it, `repo publish` signs both; a device's updater names, fetches and caches the policy.
describe('signed PCR policies as TUF targets: repo pcr-policy sign --dir → publish → device cache', () => {
  it('publishes the policy and the release naming its generation; the device caches exactly the signed bytes', async () => {
    const work = await mkdtemp(join(tmpdir(), 'es-pcr-targets-'));
    const [wd, stick, device, gen] = [join(work, 'wd'), join(work, 'stick'), join(work, 'device'), join(work, 'gen')];
    const ok = async (...argv: string[]): Promise<string> => {
      const r = await edgeseal(...argv);
      expect(r.code, `${argv.join(' ')}: ${r.err}`).to.equal(EXIT.OK);
      return r.out;
    };
    await ok('repo', 'init', '--dir', wd);
    await ok('repo', 'pcr-policy', 'keygen', '--out', join(work, 'authority.pem'));
    await writeFile(join(work, 'measured.json'), JSON.stringify({ 0: '00'.repeat(32), 2: '00'.repeat(32), 4: '4b'.repeat(32), 7: '00'.repeat(32) }));
    const sign = ['repo', 'pcr-policy', 'sign', '--key', join(work, 'authority.pem'), '--generation', '2', '--values', join(work, 'measured.json'), '--out', join(work, 'policy-2.json')];
    expect(await ok(...sign, '--dir', wd)).to.contain('added pcr-policies/2.json to targets').and.contain('PCR policy generation 2');
    await writeFile(join(work, 'fw.bin'), 'firmware v2 with a new kernel');
    await ok('repo', 'add-target', join(work, 'fw.bin'), '--dir', wd, '--name', 'fw/board-a/2.0.0.bin', '--hardware-id', 'board-a', '--version', '2.0.0', '--security-version', '2', '--kind', 'firmware', '--pcr-policy-generation', '2');
    await ok('repo', 'publish', '--dir', wd, '--out', stick);

    // a second signature of generation 2 (other values) under the same name is refused: sign a new generation
    await writeFile(join(work, 'measured.json'), JSON.stringify({ 0: '11'.repeat(32), 2: '00'.repeat(32), 4: '4b'.repeat(32), 7: '00'.repeat(32) }));
    const again = await edgeseal(...sign, '--dir', wd);
    expect([again.code, again.err]).to.satisfy(([c, e]: [number, string]) => c === EXIT.USAGE && e.includes('already lists other bytes'));
    expect((await edgeseal(...sign, '--dir', wd, '--name', 'policies/2.json')).code).to.equal(EXIT.USAGE);
    expect((await edgeseal('repo', 'add-target', join(work, 'fw.bin'), '--dir', wd, '--name', 'fw/x.bin', '--hardware-id', 'a', '--version', '1.0.0', '--security-version', '1', '--kind', 'firmware', '--pcr-policy-generation', '64')).code).to.equal(EXIT.USAGE);

    // the device side: tuf-js refresh, the verified set names the policy, the cache holds its bytes
    await mkdir(device);
    const initialRoot = await readFile(join(stick, 'metadata', '1.root.json'));
    await copyFile(join(stick, 'metadata', '1.root.json'), join(device, 'root.json'));
    const updater = createDeviceUpdater({ metadataDir: device, source: sourceAt(stick) });
    await updater.refresh();
    const now = new Date();
    const trusted = loadTrustedMetadata(await readMetadataDir(device, { initialRoot }), { now, expiry: 'enforce' });
    expect(listTargets(trusted, now).map((t) => [t.name, t.custom.pcrPolicyGeneration])).to.deep.equal([['fw/board-a/2.0.0.bin', 2]], 'the policy is not an image');
    expect(namedPcrPolicies(trusted, now).policies.map((p) => [p.name, p.file, p.generation])).to.deep.equal([['pcr-policies/2.json', '2.json', 2]]);
    await mkdir(gen);
    const cached = await cachePcrPolicies({ fs: nodeCacheFs, genDir: gen, promotedDir: undefined, updater, downloadDir: join(work, 'dl') }, trusted, now);
    expect(cached.rejected).to.deep.equal([]);
    const bytes = await readFile(join(gen, 'pcr-policies', '2.json'));
    expect(bytes.equals(await readFile(join(work, 'policy-2.json')))).to.equal(true);
    expect(decodePcrPolicy(bytes.toString('utf8')).generation).to.equal(2);
    expect((JSON.parse(bytes.toString('utf8')) as { _type: string })._type).to.equal(PCR_POLICY_TYPE);
  });
});
