import { expect } from 'chai';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UPDATE_SCENARIO as S } from '../../firmware-fixtures/update-scenario.js';
import { FIXTURES_OUT } from '../../firmware-fixtures/manifest.js';
import { EXIT, type CliIo } from '../../src/cli/command.js';
import { dispatch } from '../../src/cli/dispatch.js';
import { startSwtpm, type Swtpm } from '../helpers/swtpm.js';

// Finding 10: `provision --from` fills the promoted metadata cache at the factory, verified from the
// root it has just pinned, so the first boot check has something to verify against.

const REPO = join(FIXTURES_OUT, S.demo.repo); // names a signed revocation list
const OTHER = join(FIXTURES_OUT, 'repos/main'); // another repository: another root

describe('edgeseal provision --from (factory cache fill, against swtpm)', function () {
  this.timeout(30_000);
  let swtpm: Swtpm;
  let dir: string;
  let configPath: string;
  before(async () => {
    swtpm = await startSwtpm();
    dir = await mkdtemp(join(tmpdir(), 'edgeseal-provision-from-'));
    configPath = join(dir, 'config.json');
    const config = { deviceId: 'dev-1', hardwareId: S.hardwareId, stateDir: join(dir, 'state'), tpm: { swtpm: swtpm.address }, images: [{ target: S.v1.target, path: join(dir, 'fw.bin'), kind: 'firmware' }], logLevel: 'error' };
    await writeFile(configPath, JSON.stringify(config));
    await writeFile(join(dir, 'fw.bin'), await readFile(join(REPO, 'targets/fw/board-a', (await targetFileName(S.v1.target)))));
  });
  after(async () => {
    await swtpm?.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const run = async (...argv: string[]): Promise<{ code: number; out: string }> => {
    const lines: string[] = [];
    const io: CliIo = { out: (l) => lines.push(l), err: (l) => lines.push(l), isTTY: false };
    return { code: await dispatch(argv, io), out: lines.join('\n') };
  };
  const root = join(REPO, 'metadata', '1.root.json');

  it('refuses flags that name another device than the config (exit 2, expected vs found), before touching the TPM', async () => {
    const r = await run('provision', '--config', configPath, '--root', root, '--hardware-id', 'board-z', '--from', REPO);
    expect(r.code).to.equal(EXIT.USAGE);
    expect(r.out).to.contain('[USAGE]').and.contain('hardware id: expected the config\'s "board-a", found "board-z"');
    expect(await stat(join(dir, 'state', 'trust')).catch(() => undefined)).to.equal(undefined);
  });

  it('keeps the anchors and leaves no promoted set when the repository does not verify from --root (exit 1)', async () => {
    const r = await run('provision', '--config', configPath, '--root', root, '--from', OTHER);
    expect(r.code, r.out).to.equal(EXIT.REFUSED);
    expect(r.out).to.contain('provisioned').and.contain('✘ metadata set not rebuilt');
    expect(await stat(join(dir, 'state', 'metadata', 'current')).catch(() => undefined)).to.equal(undefined);
  });

  it('fills the cache and the revocation cache; the boot check right after passes', async () => {
    const r = await run('provision', '--config', configPath, '--root', root, '--from', REPO);
    expect(r.code, r.out).to.equal(EXIT.OK);
    expect(r.out).to.contain('already provisioned with this root'); // the re-run is a no-op for the anchors
    expect(r.out).to.match(/cache\s+✔ promoted: root v1, targets v1, 1 delegated role\(s\), revocation list v1/);
    expect(r.out).to.contain('✔ revocation cache holds list v1');
    const boot = await run('boot-check', '--config', configPath);
    expect(boot.code, boot.out).to.equal(EXIT.OK);
  });
});

// <sha256>.<basename> of a target in the demo repo (the published, hash-prefixed file name).
async function targetFileName(name: string): Promise<string> {
  const targets = JSON.parse(await readFile(join(REPO, 'metadata', '1.targets.json'), 'utf8')) as { signed: { targets: Record<string, { hashes: { sha256: string } }> } };
  return `${targets.signed.targets[name].hashes.sha256}.${name.split('/').pop()!}`;
}
