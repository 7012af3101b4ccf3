import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { createLogger, defaultLogFormat } from '../../src/log/logger.js';

async function lines(format: 'text' | 'json' | 'journal'): Promise<string[]> {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c.toString()));
  const log = createLogger({ level: 'debug', format, stream }).child({ component: 'boot-check' });
  log.error('refused fw.bin', { code: 'DIGEST_MISMATCH' });
  log.warn('list stale');
  log.info('verified fw.bin');
  log.debug('detail');
  await new Promise((r) => setImmediate(r));
  return chunks.join('').trim().split('\n');
}

describe('logger', () => {
  it("journal format: every line carries its syslog priority, so journalctl -p warning shows warnings and errors", async () => {
    const out = await lines('journal');
    expect(out.map((l) => l.slice(0, 3))).to.deep.equal(['<3>', '<4>', '<6>', '<7>']);
    const first = JSON.parse(out[0].slice(3)) as Record<string, unknown>;
    expect(first).to.include({ level: 'error', message: 'refused fw.bin', code: 'DIGEST_MISMATCH', component: 'boot-check' });
  });

  it('json and text formats carry no priority prefix', async () => {
    for (const l of await lines('json')) expect(l.startsWith('{'), l).to.equal(true);
    expect((await lines('text'))[0]).to.match(/^\d\d:\d\d:\d\d error \[boot-check\] refused fw\.bin/);
  });

  it('json: keys sorted as winston wrote them, an ISO timestamp, child fields merged, a message field appended', async () => {
    const stream = new PassThrough();
    const chunks: string[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c.toString()));
    createLogger({ format: 'json', stream }).child({ component: 'agent' }).child({ job: 'update' }).warn('refused', { zeta: 1, code: 'ROLLBACK', message: 'v2 < floor' });
    await new Promise((r) => setImmediate(r));
    const line = chunks.join('');
    expect(line.endsWith('\n')).to.equal(true);
    const keys = Object.keys(JSON.parse(line) as object);
    expect(keys).to.deep.equal(['code', 'component', 'job', 'level', 'message', 'timestamp', 'zeta']);
    expect(JSON.parse(line)).to.include({ level: 'warn', message: 'refused v2 < floor', component: 'agent', job: 'update' });
    expect((JSON.parse(line) as { timestamp: string }).timestamp).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('drops lines below its level, writes nothing when silent, and never throws on a cycle or a bigint', async () => {
    const stream = new PassThrough();
    const chunks: string[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c.toString()));
    const cyclic: Record<string, unknown> = { n: 10n };
    cyclic.self = cyclic;
    const log = createLogger({ level: 'info', format: 'journal', stream });
    log.debug('hidden');
    log.info('shown', { cyclic });
    createLogger({ silent: true, stream }).error('nowhere');
    await new Promise((r) => setImmediate(r));
    expect(chunks).to.deep.equal(['<6>{"cyclic":{"n":"10","self":"[Circular]"},"level":"info","message":"shown"}\n']);
  });

  it('defaults to journal under systemd, text on a terminal, JSON otherwise', () => {
    expect(defaultLogFormat({ JOURNAL_STREAM: '8:12345' }, false)).to.equal('journal');
    expect(defaultLogFormat({}, true)).to.equal('text');
    expect(defaultLogFormat({}, false)).to.equal('json');
  });
});
