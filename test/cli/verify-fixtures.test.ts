import { expect } from 'chai';
import { join } from 'node:path';
import { dispatch } from '../../src/cli/dispatch.js';
import { EXIT } from '../../src/cli/command.js';
import { FIXTURES_OUT, readManifest } from '../../firmware-fixtures/manifest.js';

const FLOOR_ARG = { rootVersion: 'root', timestampVersion: 'timestamp', snapshotVersion: 'snapshot', targetsVersion: 'targets' } as const;

// Every committed firmware fixture through `edgeseal verify`, end to end: the good ones verify and
// every variant is refused with exactly the code the manifest names.
describe('cli verify on firmware-fixtures', () => {
  const { cases } = readManifest();

  it('covers good cases and every refusal variant', () => {
    expect(cases.filter((c) => c.expect === 'VERIFIED').length).to.be.at.least(1);
    expect(new Set(cases.map((c) => c.expect)).size).to.be.at.least(8);
  });

  for (const c of cases) {
    it(`${c.name} → ${c.expect}`, async () => {
      const floors = Object.entries(c.floors ?? {}).flatMap(([k, v]) => ['--floor', `${FLOOR_ARG[k as keyof typeof FLOOR_ARG]}=${v}`]);
      const args = ['verify', '--metadata', join(FIXTURES_OUT, c.metadata), '--target', c.target, '--file', join(FIXTURES_OUT, c.image)];
      args.push('--hardware-id', c.hardwareId, '--now', c.now, '--expiry', c.expiry, ...floors, '--json');
      const lines: string[] = [];
      const errors: string[] = [];
      const code = await dispatch(args, { out: (l) => lines.push(l), err: (l) => errors.push(l), isTTY: false });
      const verdict = JSON.parse(lines.join('\n')) as { ok: boolean; code?: string };
      expect(verdict.ok ? 'VERIFIED' : verdict.code, `${c.note}; ${errors.join(' ')}`).to.equal(c.expect);
      expect(code).to.equal(c.expect === 'VERIFIED' ? EXIT.OK : EXIT.REFUSED);
    });
  }
});
