import { expect } from 'chai';
import { configJsonSchema, parseConfig } from '../../src/config/schema.js';
import type { JsonSchema } from '../../src/config/fields.js';
import { expectCode } from '../helpers/expect-code.js';
import { FULL } from './full-config.js';

// Every field the schema names × every JSON type it does not accept → CONFIG_INVALID naming that field;
// no section set to a non-object is ever replaced by its defaults. The walk is over the generated
// schema, so a field added to the definitions is covered without touching this test.

const WRONG: Readonly<Record<string, unknown>> = { string: 'x', integer: 12345, number: 1.5, boolean: true, array: [], object: {}, null: null };

// [dotted path, the JSON types it accepts] for every field and section in the schema
function fieldsOf(s: JsonSchema, path: string): [string, string[]][] {
  const here: [string, string[]][] = path ? [[path, s.oneOf ? ['object'] : [s.type as string]]] : [];
  const props = (s.properties ?? {}) as Record<string, JsonSchema>;
  const nested = Object.entries(props).flatMap(([k, sub]) => fieldsOf(sub, path ? `${path}.${k}` : k));
  const items = s.type === 'array' && (s.items as JsonSchema).type === 'object' ? fieldsOf(s.items as JsonSchema, `${path}.0`) : [];
  const variants = ((s.oneOf ?? []) as JsonSchema[]).flatMap((v) => Object.entries(v.properties as Record<string, JsonSchema>).flatMap(([k, sub]) => fieldsOf(sub, `${path}.${k}`)));
  return [...here, ...nested, ...items, ...variants];
}

function setAt(doc: unknown, path: string, value: unknown): unknown {
  const copy = structuredClone(doc) as Record<string, unknown>;
  const keys = path.split('.');
  let cur = copy;
  for (const k of keys.slice(0, -1)) cur = (cur[k] ??= {}) as Record<string, unknown>;
  cur[keys.at(-1)!] = value;
  return copy;
}

describe('config schema, fuzz-style: every field × every wrong JSON type', () => {
  const fields = fieldsOf(configJsonSchema(), '');

  it('the fully populated document is valid, and the walk covers every section and leaf', () => {
    expect(() => parseConfig(FULL)).to.not.throw();
    expect(fields.length).to.be.greaterThan(50);
    for (const section of ['tpm', 'update', 'update.slots', 'update.bootSelector', 'update.bootSelector.commands.cmdline', 'revocation', 'revocation.onExpired', 'telemetry', 'images.0']) {
      expect(fields.map(([p]) => p)).to.include(section);
    }
  });

  it('each wrong type is CONFIG_INVALID naming the field', () => {
    let cases = 0;
    for (const [path, accepted] of fields) {
      for (const [type, value] of Object.entries(WRONG)) {
        if (accepted.includes(type) || (type === 'integer' && accepted.includes('number'))) continue;
        const err = expectCode(() => parseConfig(setAt(FULL, path, value)), 'CONFIG_INVALID');
        expect(err.message, `${path} = ${JSON.stringify(value)}`).to.match(new RegExp(`- ${path.replace(/\./g, '\\.')}: expected`));
        cases++;
      }
    }
    expect(cases).to.be.greaterThan(300);
  });
});
