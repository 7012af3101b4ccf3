import { expect } from 'chai';
import { mkdtemp, stat, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlSocketPath, listenControl, requestControl } from '../../src/agent/control-socket.js';
import type { MarkOutcome, MarkRequest } from '../../src/agent/marks.js';
import { EdgesealError } from '../../src/core/errors.js';
import { createLogger } from '../../src/log/logger.js';
import { expectCodeAsync } from '../helpers/expect-code.js';

// The agent's control socket on a real Unix socket: requests run one at a time, refusals come back to
// the command as the same error code, garbage is refused, and no listener means "act yourself".
describe('agent control socket', () => {
  const logger = createLogger({ silent: true });
  const done = (req: MarkRequest): MarkOutcome => ({ changed: true, slot: 'B', state: 'committed', next: 'none', message: req.op });

  it('answers a request, refuses with the handler\'s code, and is root-only (0600)', async () => {
    const path = controlSocketPath(join(await mkdtemp(join(tmpdir(), 'es-ctl-')), 'run'));
    const seen: MarkRequest[] = [];
    const ctl = await listenControl(
      path,
      (req) => {
        seen.push(req);
        if (req.op === 'mark-bad') return Promise.reject(new EdgesealError('MARK_REFUSED', 'nothing to roll back to'));
        return Promise.resolve(done(req));
      },
      logger,
    );
    try {
      expect((await stat(path)).mode & 0o777).to.equal(0o600);
      expect(await requestControl(path, { op: 'mark-active', slot: 'other' })).to.deep.include({ message: 'mark-active' });
      const err = await expectCodeAsync(() => requestControl(path, { op: 'mark-bad', reason: 'r' }), 'MARK_REFUSED');
      expect(err.message).to.equal('nothing to roll back to');
      expect(seen).to.deep.equal([{ op: 'mark-active', slot: 'other' }, { op: 'mark-bad', reason: 'r' }]);
    } finally {
      await ctl.close();
    }
  });

  it('refuses a malformed request (USAGE) without calling the handler', async () => {
    const path = controlSocketPath(await mkdtemp(join(tmpdir(), 'es-ctl-')));
    let calls = 0;
    const ctl = await listenControl(path, (req) => (calls++, Promise.resolve(done(req))), logger);
    const ask = (line: string): Promise<string> =>
      new Promise((resolve, reject) => {
        let out = '';
        const c = createConnection(path, () => c.write(line));
        c.on('data', (d) => (out += d.toString()));
        c.on('end', () => resolve(out));
        c.on('error', reject);
      });
    try {
      for (const line of ['not json\n', '{"op":"mark-active","slot":"C"}\n', '{"op":"rm -rf"}\n', `{"op":"mark-bad","reason":"${'x'.repeat(600)}"}\n`, 'x'.repeat(5000)]) {
        const reply = JSON.parse(await ask(line)) as { ok: boolean; code: string };
        expect(reply, line.slice(0, 40)).to.deep.include({ ok: false, code: 'USAGE' });
      }
      expect(calls).to.equal(0);
    } finally {
      await ctl.close();
    }
  });

  it('no agent listening (no socket, or a stale one left by a killed agent): undefined, the command acts itself', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'es-ctl-'));
    expect(await requestControl(join(dir, 'control.sock'), { op: 'mark-good' })).to.equal(undefined);
    const stale = controlSocketPath(dir);
    const ctl = await listenControl(stale, (req) => Promise.resolve(done(req)), logger);
    await ctl.close(); // a closed listener leaves nothing to connect to
    expect(await requestControl(stale, { op: 'mark-good' })).to.equal(undefined);
    // a new agent replaces whatever is left at the path
    await writeFile(stale, 'left over');
    const again = await listenControl(stale, (req) => Promise.resolve(done(req)), logger);
    try {
      expect(await requestControl(stale, { op: 'mark-good' })).to.deep.include({ message: 'mark-good' });
    } finally {
      await again.close();
    }
  });
});
