import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { recordResponses } from '../helpers/recording-transport.js';
import { startSwtpm, type Swtpm } from '../helpers/swtpm.js';
import { EdgesealError } from '../../src/core/errors.js';
import { TpmClient } from '../../src/tpm/client.js';
import { TPM_HT } from '../../src/tpm/constants.js';
import type { LoadedObject, SealedObject } from '../../src/tpm/object.js';
import type { TpmTransport } from '../../src/tpm/transport.js';

// Every command parser against hostile responses: real swtpm responses are recorded once, then
// replayed truncated, extended, re-tagged and filled with garbage. Each must end in a coded error,
// never a TypeError/RangeError or a silently accepted value.

interface Ctx { session: number; primary: LoadedObject; sealed: SealedObject; policy: Uint8Array; item: LoadedObject }
const ctx = {} as Ctx;
const SEL = { hash: 'sha256' as const, pcrs: [0, 2] };
const NV = 0x01500200;
const CTR = 0x01500201;

const OPS: { name: string; op: (c: TpmClient) => Promise<unknown>; createsHandle?: boolean }[] = [
  { name: 'Startup (already started)', op: (c) => c.startup() },
  { name: 'GetRandom', op: (c) => c.getRandom(16) },
  { name: 'GetCapability properties', op: (c) => c.getIdentity() },
  { name: 'GetCapability algorithms', op: (c) => c.getAlgorithms() },
  { name: 'GetCapability PCR banks', op: (c) => c.getPcrBanks() },
  { name: 'PCR_Read (two round trips)', op: (c) => c.pcrRead({ hash: 'sha256', pcrs: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10] }) },
  { name: 'PCR_Extend', op: (c) => c.pcrExtend(16, [{ hash: 'sha256', digest: new Uint8Array(32) }]) },
  { name: 'StartAuthSession', op: async (c) => (ctx.session = await c.startAuthSession('policy')), createsHandle: true },
  { name: 'PolicyPCR', op: (c) => c.policyPcr(ctx.session, SEL) },
  { name: 'PolicyGetDigest', op: async (c) => (ctx.policy = await c.policyGetDigest(ctx.session)) },
  { name: 'CreatePrimary', op: async (c) => (ctx.primary = await c.createStoragePrimary()), createsHandle: true },
  { name: 'Create', op: async (c) => (ctx.sealed = await c.createSealed(ctx.primary, Uint8Array.of(1, 2, 3), ctx.policy)) },
  { name: 'Load', op: async (c) => (ctx.item = await c.load(ctx.primary.handle, ctx.sealed)), createsHandle: true },
  { name: 'Unseal', op: (c) => c.unseal(ctx.item, { kind: 'policy', handle: ctx.session }) },
  { name: 'FlushContext ×3', op: async (c) => { await c.flushContext(ctx.item.handle); await c.flushContext(ctx.primary.handle); await c.flushContext(ctx.session); } },
  { name: 'NV_DefineSpace', op: (c) => c.nvDefineSpace({ index: NV, type: 'ordinary', attributes: ['AUTHWRITE', 'AUTHREAD', 'WRITEDEFINE'], dataSize: 16 }) },
  { name: 'NV_Write', op: (c) => c.nvWrite(NV, new Uint8Array(16).fill(7)) },
  { name: 'NV_Read', op: (c) => c.nvRead(NV, 16) },
  { name: 'NV_ReadPublic', op: (c) => c.nvReadPublic(NV) },
  { name: 'NV_WriteLock', op: (c) => c.nvWriteLock(NV) },
  { name: 'NV counter define + increment', op: async (c) => { await c.nvDefineSpace({ index: CTR, type: 'counter', attributes: ['AUTHWRITE', 'AUTHREAD'], dataSize: 8 }); await c.nvIncrement(CTR); } },
  { name: 'NV counter read', op: (c) => c.nvReadCounter(CTR) },
  { name: 'GetCapability handles', op: (c) => c.getHandles(TPM_HT.NV_INDEX) },
  { name: 'NV_UndefineSpace', op: (c) => c.nvUndefineSpace(NV) },
];

function replay(responses: Uint8Array[]): TpmClient {
  let i = 0;
  const t: TpmTransport = { description: 'replay', send: () => Promise.resolve(responses[Math.min(i++, responses.length - 1)]), close: () => Promise.resolve() };
  return new TpmClient(t, { sleep: () => Promise.resolve() });
}

function withSize(b: Uint8Array): Uint8Array {
  const out = b.slice();
  if (out.length >= 6) new DataView(out.buffer).setUint32(2, out.length);
  return out;
}

// Deterministic pseudo-random bytes (a seeded hash stream) so a failure can be reproduced.
function noise(seed: string, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0, ctr = 0; i < n; ctr++) {
    const block = createHash('sha256').update(`${seed}/${ctr}`).digest();
    out.set(block.subarray(0, Math.min(32, n - i)), i);
    i += 32;
  }
  return out;
}

async function outcome(c: TpmClient, op: (c: TpmClient) => Promise<unknown>): Promise<string> {
  try {
    await op(c);
    return 'accepted';
  } catch (err) {
    return err instanceof EdgesealError ? err.code : `crash: ${String(err)}`;
  }
}

const FLUSH_OK = Uint8Array.of(0x80, 0x01, 0, 0, 0, 10, 0, 0, 0, 0);
const u32At = (b: Uint8Array, off: number): number => new DataView(b.buffer, b.byteOffset).getUint32(off);

// Replays one faulty response to the op's command, answers anything after it as a successful
// FlushContext, and returns the handles the client flushed.
async function flushesAfter(faulty: Uint8Array, op: (c: TpmClient) => Promise<unknown>): Promise<number[]> {
  const sent: Uint8Array[] = [];
  const t: TpmTransport = { description: 'replay', send: (cmd) => Promise.resolve(sent.push(cmd) === 1 ? faulty : FLUSH_OK), close: () => Promise.resolve() };
  expect(await outcome(new TpmClient(t, { sleep: () => Promise.resolve() }), op)).to.equal('TPM_MALFORMED_RESPONSE');
  return sent.slice(1).filter((c) => u32At(c, 6) === 0x165).map((c) => u32At(c, 10));
}

describe('tpm hostile responses (recorded from swtpm, replayed with faults)', function () {
  let recorded = new Map<string, Uint8Array[]>();
  let swtpm: Swtpm;

  before(async function () {
    swtpm = await startSwtpm();
    recorded = await recordResponses(swtpm.address, OPS);
  });
  after(async function () {
    await swtpm?.stop();
  });

  for (const { name, op, createsHandle } of OPS) {
    it(`${name}: the recorded response parses, and every fault is TPM_MALFORMED_RESPONSE`, async function () {
      const rsps = recorded.get(name) ?? [];
      expect(rsps.length).to.be.greaterThan(0);
      expect(await outcome(replay(rsps), op)).to.equal('accepted');
      const failures: string[] = [];
      for (let k = 0; k < rsps.length; k++) {
        const faulty = (fault: string, bytes: Uint8Array, allowed: string[]) => async (): Promise<void> => {
          const got = await outcome(replay(rsps.map((r, i) => (i === k ? bytes : r))), op);
          if (!allowed.includes(got)) failures.push(`response ${k} ${fault}: ${got}`);
        };
        const r = rsps[k];
        const checks = [
          faulty('+1 trailing byte', withSize(Uint8Array.from([...r, 0])), ['TPM_MALFORMED_RESPONSE']),
          faulty('responseSize off by one', Uint8Array.from(r).fill(r[5] + 1, 5, 6), ['TPM_MALFORMED_RESPONSE']),
          faulty('wrong tag', Uint8Array.from(r).fill(r[1] ^ 3, 1, 2), ['TPM_MALFORMED_RESPONSE']),
          // garbage after a valid header: must be rejected or parsed, never crash
          ...[r.length, 64, 400].map((n, j) => {
            const g = withSize(Uint8Array.from([...r.subarray(0, 10), ...noise(`${name}/${k}/${j}`, n)]));
            return faulty(`garbage body ${n}`, g, ['TPM_MALFORMED_RESPONSE', 'TPM_ERROR', 'accepted']);
          }),
        ];
        // a created handle of the wrong kind (e.g. a PCR index instead of a session) would be used and flushed later
        if (createsHandle) checks.push(faulty('created handle of the wrong type', Uint8Array.from(r).fill(0x01, 10, 11), ['TPM_MALFORMED_RESPONSE']));
        // every truncation, with responseSize made consistent so the inner parsers are what is tested
        for (let len = 0; len < r.length; len++) checks.push(faulty(`truncated to ${len}`, withSize(r.subarray(0, len)), ['TPM_MALFORMED_RESPONSE']));
        for (const check of checks) await check();
      }
      expect(failures, failures.slice(0, 5).join('\n')).to.deep.equal([]);
    });
  }

  // P4: a response malformed after its handle area must not leak the handle the TPM created
  for (const { name, op } of OPS.filter((o) => o.createsHandle)) {
    it(`${name}: a response malformed after the created handle flushes that handle, and only that one`, async function () {
      const [r] = recorded.get(name) ?? [];
      const created = u32At(r, 10);
      const leaks: string[] = [];
      const expectFlushes = async (fault: string, bytes: Uint8Array, expected: number[]): Promise<void> => {
        const flushed = await flushesAfter(bytes, op);
        if (JSON.stringify(flushed) !== JSON.stringify(expected)) leaks.push(`${fault}: flushed [${flushed.map((h) => h.toString(16)).join(', ')}]`);
      };
      await expectFlushes('+1 trailing byte', withSize(Uint8Array.from([...r, 0])), [created]);
      for (let len = 14; len < r.length; len++) await expectFlushes(`truncated to ${len}`, withSize(r.subarray(0, len)), [created]);
      // no complete handle, or one of another kind: nothing is known to have been created
      for (let len = 10; len < 14; len++) await expectFlushes(`truncated to ${len}`, withSize(r.subarray(0, len)), []);
      await expectFlushes('created handle of the wrong type', Uint8Array.from(r).fill(0x01, 10, 11), []);
      expect(leaks, leaks.slice(0, 5).join('\n')).to.deep.equal([]);
    });
  }
});
