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

  it('defaults to journal under systemd, text on a terminal, JSON otherwise', () => {
    expect(defaultLogFormat({ JOURNAL_STREAM: '8:12345' }, false)).to.equal('journal');
    expect(defaultLogFormat({}, true)).to.equal('text');
    expect(defaultLogFormat({}, false)).to.equal('json');
  });
});
