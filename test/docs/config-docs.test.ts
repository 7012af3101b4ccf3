import { expect } from 'chai';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configCheckCommand } from '../../src/cli/config-check.js';
import { AGENT_CONFIG, configJsonSchema } from '../../src/config/schema.js';
import type { JsonSchema } from '../../src/config/fields.js';

// What README.md and docs/ tell a user to write must be what the agent reads: every ```json config
// block passes `config check`, and every backticked dotted config key resolves in the schema
// (docs/telemetry.md once said caFile/certFile/keyFile where the config reads ca/cert/key).

const ROOT = new URL('../../../', import.meta.url);
const SECTIONS = Object.keys(AGENT_CONFIG.fields);
// the fields a fragment (e.g. a lone "revocation": {…} block) is completed with
const MINIMAL = { deviceId: 'dev-1', hardwareId: 'board-a', images: [{ target: 'fw/a.bin', path: '/var/lib/edgeseal/fw.bin', kind: 'firmware' }] };

async function docs(): Promise<{ name: string; text: string }[]> {
  const names = ['README.md', ...(await readdir(new URL('docs/', ROOT))).filter((n) => n.endsWith('.md')).map((n) => `docs/${n}`)];
  return Promise.all(names.map(async (name) => ({ name, text: await readFile(new URL(name, ROOT), 'utf8') })));
}

// A ```json block that is a config or a fragment of one (`"revocation": { … }`); other JSON (revocation
// lists, telemetry envelopes) has no config section at its top level.
function configBlock(block: string): Record<string, unknown> | undefined {
  for (const text of [block, `{${block}}`]) {
    try {
      const doc = JSON.parse(text) as unknown;
      if (typeof doc === 'object' && doc !== null && !Array.isArray(doc) && Object.keys(doc).some((k) => SECTIONS.includes(k))) return doc as Record<string, unknown>;
    } catch {
      // not this shape
    }
  }
  return undefined;
}

// Resolves `images[].target`, `update.bootSelector.commands.vars` … through properties, items and oneOf.
function resolves(schema: JsonSchema, key: string): boolean {
  let cur: JsonSchema | undefined = schema;
  for (const part of key.replace(/\[\]/g, '.[]').split('.')) {
    if (cur === undefined) return false;
    if (part === '[]') {
      cur = cur.items as JsonSchema | undefined;
      continue;
    }
    const variants: JsonSchema[] = [cur, ...((cur.oneOf ?? []) as JsonSchema[])];
    cur = variants.map((v) => (v.properties as Record<string, JsonSchema> | undefined)?.[part]).find((v) => v !== undefined);
  }
  return cur !== undefined;
}

describe('config in README.md and docs/', () => {
  it('every ```json config block passes `config check`', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'es-docs-config-'));
    let checked = 0;
    try {
      for (const { name, text } of await docs()) {
        for (const [, block] of text.matchAll(/```json\n([\s\S]*?)```/g)) {
          const doc = configBlock(block);
          if (!doc) continue;
          const file = join(dir, `block-${checked++}.json`);
          await writeFile(file, JSON.stringify('deviceId' in doc ? doc : { ...MINIMAL, ...doc }));
          const lines: string[] = [];
          const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l), isTTY: false };
          const code = await configCheckCommand.run(['--config', file], io).catch((err: Error) => `${err.message}`);
          expect(code, `${name}: config block ${block.slice(0, 60)}…`).to.equal(0);
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(checked).to.be.at.least(2);
  });

  it('every backticked dotted config key names a field of the schema', async () => {
    const schema = configJsonSchema();
    const named: string[] = [];
    for (const { name, text } of await docs()) {
      for (const [, key] of text.matchAll(/`([a-z][A-Za-z]*(?:\[\])?(?:\.[A-Za-z]+(?:\[\])?)+)`/g)) {
        if (!SECTIONS.includes(key.split(/[.[]/)[0]) || /\.(ts|js|json|md)$/.test(key)) continue;
        named.push(key);
        expect(resolves(schema, key), `${name} names \`${key}\``).to.equal(true);
      }
    }
    expect(named).to.include('telemetry.broker');
  });

  // a bare `somethingFile` reads like a config key; it must be one (tpm.ownerAuthFile is, caFile is not)
  it('every backticked bare …File name is a config field', async () => {
    const leaves = new Set(JSON.stringify(configJsonSchema()).match(/"[A-Za-z]+":\{/g)?.map((m) => m.slice(1, -3)));
    for (const { name, text } of await docs()) {
      for (const [, key] of text.matchAll(/`([a-z][A-Za-z]*File)`/g)) expect(leaves.has(key), `${name} names \`${key}\``).to.equal(true);
    }
  });
});
