import { Problems, show } from './problems.js';
import { unknownKeyHint } from './suggest.js';

// One declarative definition per config field (type, default, description, constraints). The
// validator (`read`) and the JSON Schema (`schema`) are both derived from it, so they cannot drift.

export type JsonSchema = { readonly [k: string]: unknown };

export interface Def<T> {
  readonly schema: JsonSchema;
  // the value when the key is absent (a default, undefined for optional fields), or a problem
  absent(path: string, p: Problems): T;
  read(value: unknown, path: string, p: Problems): T;
}

interface Common<T> {
  readonly description: string;
  readonly default?: T;
  // a semantic check the type cannot express (cron syntax, windows): the reason it fails, or undefined
  readonly check?: (value: T) => string | undefined;
}

type Value<D> = D extends Def<infer T> ? T : never;
type Shape = Readonly<Record<string, Def<unknown>>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: undefined extends Value<S[K]> ? K : never }[keyof S];
type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type SectionOf<S extends Shape> = Simplify<
  { readonly [K in Exclude<keyof S, OptionalKeys<S>>]: Value<S[K]> } & { readonly [K in OptionalKeys<S>]?: Exclude<Value<S[K]>, undefined> }
>;

// A leaf: `accepts` decides the JSON type and constraints, `expected` says them in a problem line.
function leaf<T>(opts: Common<T>, schema: JsonSchema, expected: string, accepts: (v: unknown) => v is T): Def<T> {
  const fallback = opts.default as T;
  return {
    schema: { ...schema, description: opts.description, ...(opts.default !== undefined ? { default: opts.default } : {}) },
    absent(path, p) {
      if (opts.default === undefined) p.add(`${path}: expected ${expected}, found nothing`);
      return fallback;
    },
    read(v, path, p) {
      if (!accepts(v)) {
        p.add(`${path}: expected ${expected}, found ${show(v)}`);
        // as found, so the cross-field rules see what is present; parseConfig throws before it escapes
        return v as T;
      }
      const why = opts.check?.(v);
      if (why !== undefined) p.add(`${path}: ${why}`);
      return v;
    },
  };
}

export function str(opts: Common<string> & { readonly pattern?: RegExp; readonly describe?: string }): Def<string> {
  const { pattern } = opts;
  const schema = { type: 'string', minLength: 1, ...(pattern ? { pattern: pattern.source } : {}) };
  return leaf(opts, schema, opts.describe ?? 'a non-empty string', (v): v is string => typeof v === 'string' && v.length > 0 && (!pattern || pattern.test(v)));
}

export function int(opts: Common<number> & { readonly min?: number; readonly max?: number }): Def<number> {
  const min = opts.min ?? Number.MIN_SAFE_INTEGER;
  const max = opts.max ?? Number.MAX_SAFE_INTEGER;
  const accepts = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;
  return leaf(opts, { type: 'integer', minimum: min, maximum: max }, `an integer from ${min} to ${max}`, accepts);
}

export function bool(opts: Common<boolean>): Def<boolean> {
  return leaf(opts, { type: 'boolean' }, 'true or false', (v): v is boolean => typeof v === 'boolean');
}

export function choice<const T extends string>(values: readonly T[], opts: Common<NoInfer<T>>): Def<T> {
  return leaf(opts, { type: 'string', enum: values }, `one of ${values.join('|')}`, (v): v is T => values.includes(v as T));
}

export function strList(opts: Common<readonly string[]> & { readonly minItems?: number; readonly what?: string }): Def<readonly string[]> {
  const minItems = opts.minItems ?? 0;
  const expected = opts.what ?? (minItems ? `a list of at least ${minItems} non-empty string(s)` : 'a list of non-empty strings');
  const accepts = (v: unknown): v is readonly string[] => Array.isArray(v) && v.length >= minItems && v.every((s) => typeof s === 'string' && s.length > 0);
  return leaf(opts, { type: 'array', items: { type: 'string', minLength: 1 }, minItems }, expected, accepts);
}

// Absent means undefined (no default): `update.source`, `tpm.device`, …
export function optional<T>(def: Def<T>): Def<T | undefined> {
  return { schema: def.schema, absent: () => undefined, read: (v, path, p) => def.read(v, path, p) };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

// Reads the keys `fields` names (absent ones through their defaults), omits undefined values, and
// reports every other key as unknown with a did-you-mean hint.
function readKeys<S extends Shape>(fields: S, v: Record<string, unknown>, path: string, p: Problems): SectionOf<S> {
  const out: Record<string, unknown> = {};
  for (const [key, def] of Object.entries(fields)) {
    if (p.full) break;
    const at = path ? `${path}.${key}` : key;
    const value = Object.hasOwn(v, key) ? def.read(v[key], at, p) : def.absent(at, p);
    if (value !== undefined) out[key] = value;
  }
  for (const key of Object.keys(v)) {
    if (p.full) break;
    if (!Object.hasOwn(fields, key)) p.add(`${path ? `${path}.` : ''}${unknownKeyHint(key, path, fields)}`);
  }
  return out as SectionOf<S>;
}

function objectSchema(fields: Shape, description: string): JsonSchema {
  const required = Object.entries(fields).filter(([, d]) => isRequired(d)).map(([k]) => k);
  const properties = Object.fromEntries(Object.entries(fields).map(([k, d]) => [k, d.schema]));
  return { type: 'object', description, properties, ...(required.length ? { required } : {}), additionalProperties: false };
}

// A field is required when leaving it out is a problem.
function isRequired(def: Def<unknown>): boolean {
  const p = new Problems();
  def.absent('', p);
  return p.count > 0;
}

export interface SectionDef<S extends Shape> extends Def<SectionOf<S>> {
  readonly fields: S;
}

// An object of named fields; absent, it is its fields' defaults.
export function section<S extends Shape>(fields: S, opts: { readonly description: string }): SectionDef<S> {
  return {
    fields,
    schema: objectSchema(fields, opts.description),
    absent: (path, p) => readKeys(fields, {}, path, p),
    read(v, path, p) {
      if (isObject(v)) return readKeys(fields, v, path, p);
      p.add(`${path}: expected an object { ${Object.keys(fields).join(', ')} }, found ${show(v)}`);
      return readKeys(fields, {}, path, new Problems());
    },
  };
}

// A list of items, each read at `path.N`; reading stops once the problem cap is reached.
export function list<T>(item: Def<T>, opts: { readonly description: string; readonly minItems?: number }): Def<readonly T[]> {
  const minItems = opts.minItems ?? 0;
  const expected = `a list with at least ${minItems} entries`;
  return {
    schema: { type: 'array', description: opts.description, items: item.schema, minItems },
    absent(path, p) {
      if (minItems > 0) p.add(`${path}: expected ${expected}, found nothing`);
      return [];
    },
    read(v, path, p) {
      if (!Array.isArray(v) || v.length < minItems) {
        p.add(`${path}: expected ${expected}, found ${show(v)}`);
        return [];
      }
      const out: T[] = [];
      for (let i = 0; i < v.length && !p.full; i++) out.push(item.read(v[i], `${path}.${i}`, p));
      return out;
    },
  };
}

type OneOf<S extends Shape> = { [K in keyof S]: { readonly [Q in K]: Value<S[K]> } }[keyof S];

// An object holding exactly one of the given keys (e.g. update.bootSelector: { file } or { commands }).
export function exactlyOne<S extends Shape>(variants: S, opts: { readonly description: string; readonly describe: string }): Def<OneOf<S> | undefined> {
  const names = Object.keys(variants);
  return {
    schema: { description: opts.description, oneOf: names.map((k) => objectSchema({ [k]: variants[k] }, `${opts.description} (${k})`)) },
    absent: () => undefined,
    read(v, path, p) {
      if (!isObject(v)) {
        p.add(`${path}: expected ${opts.describe}, found ${show(v)}`);
        return undefined;
      }
      const present = names.filter((k) => Object.hasOwn(v, k));
      if (present.length !== 1) p.add(`${path}: expected exactly one of ${opts.describe}, found ${present.length ? 'both' : 'neither'}`);
      // every present variant is still read, so its own bad fields are named too
      const out: Record<string, unknown> = {};
      for (const k of present) out[k] = variants[k].read(v[k], `${path}.${k}`, p);
      for (const k of Object.keys(v)) if (!Object.hasOwn(variants, k) && !p.full) p.add(`${path}.${unknownKeyHint(k, path, variants)}`);
      return present.length === 1 ? (out as OneOf<S>) : undefined;
    },
  };
}
