import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { digestFile, digestFileSync } from '../../src/io/file-digest.js';
import { loadTrustedMetadata } from '../../src/tuf/offline/load-trusted.js';
import { verifyInstalledImage } from '../../src/tuf/verify-installed.js';
import { addImage, after as daysAfter, imageOf, newRepo, publishedFiles, sha256Hex, T0 } from '../helpers/tuf-repo.js';

const run = promisify(execFile);

// A fixed image on a real block device (a loop device over a file; needs root and /dev/loop-control,
// as on the CI machine): the partition is larger than the image, so exactly the signed length is
// hashed. The same bytes as a regular file must still match the signed length exactly.
describe('io digestFile on a block device (loop device)', () => {
  const NAME = 'firmware/board-a/fixed.bin';
  const image = imageOf('fixed-on-partition', 1_300_000);
  const partition = Buffer.concat([image, imageOf('rest-of-partition', 2 * 1024 * 1024 - image.length)]);
  let dir: string;
  let file: string;
  let device: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'edgeseal-blockdev-'));
    file = join(dir, 'partition.img');
    await writeFile(file, partition);
    device = (await run('losetup', ['-f', '--show', file])).stdout.trim();
  });
  after(async () => {
    if (device) await run('losetup', ['-d', device]);
    await rm(dir, { recursive: true, force: true });
  });

  it('hashes exactly the expected length of a partition larger than the image', async () => {
    expect(await digestFile(device, { maxLength: image.length })).to.deep.equal({ length: image.length, sha256: sha256Hex(image) });
    expect(await digestFile(device)).to.deep.equal({ length: partition.length, sha256: sha256Hex(partition) });
    // a device shorter than the expected length yields what it has (the length check then refuses)
    expect((await digestFile(device, { maxLength: partition.length + 4096 })).length).to.equal(partition.length);
    // a digest worker's blocking reads follow the same plan
    expect(digestFileSync(device, { maxLength: image.length })).to.deep.equal({ length: image.length, sha256: sha256Hex(image) });
    expect(digestFileSync(device, { maxLength: partition.length + 4096 }).length).to.equal(partition.length);
  });

  it('verifies the fixed image on the block device; the same bytes as a regular file are LENGTH_MISMATCH', () => {
    const { repo } = newRepo();
    addImage(repo, NAME, image);
    repo.sign(T0);
    const trusted = loadTrustedMetadata(publishedFiles(repo), { now: daysAfter(0.5), expiry: 'enforce' });
    const onDevice = verifyInstalledImage(trusted, { targetName: NAME, file: device, hardwareId: 'board-a', now: daysAfter(0.5) });
    expect(onDevice.verdict.ok ? 'VERIFIED' : onDevice.verdict.code).to.equal('VERIFIED');
    const asFile = verifyInstalledImage(trusted, { targetName: NAME, file, hardwareId: 'board-a', now: daysAfter(0.5) });
    expect(asFile.verdict.ok ? 'VERIFIED' : asFile.verdict.code).to.equal('LENGTH_MISMATCH');
  });
});
