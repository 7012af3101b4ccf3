import { mkdtemp, readdir, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { DiskOutboxStore } from '../../../src/telemetry/outbox/disk-store.js';
import { MemoryOutboxStore } from '../../../src/telemetry/outbox/store.js';
import { outboxStoreContract } from './store-contract.js';

outboxStoreContract('memory', () => {
  const store = new MemoryOutboxStore();
  return Promise.resolve({ store, reopen: () => Promise.resolve(store) });
});

outboxStoreContract('disk', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'es-outbox-'));
  return { store: new DiskOutboxStore(dir), reopen: () => Promise.resolve(new DiskOutboxStore(dir)) };
});

describe('DiskOutboxStore', () => {
  it('discards temp files a crash left behind before their rename', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'es-outbox-'));
    await mkdir(join(dir, 'spool'));
    await writeFile(join(dir, 'spool', '.0000000000000001-2-event-1.msg.abc.tmp'), 'torn');
    const { entries } = await new DiskOutboxStore(dir).load();
    expect(entries).to.deep.equal([]);
    expect(await readdir(join(dir, 'spool'))).to.deep.equal([]);
  });
});
