import { createHash, randomBytes } from 'node:crypto';
import { EdgesealError } from '../core/errors.js';
import { createdHandle, MalformedAfterHandles, type CommandRunner, type CommandSpec } from './command.js';
import { HASH_SIZE, TPM_ALG, TPM_CC, TPM_HT, TPM_RH, TPM_SE } from './constants.js';
import { TpmWriter, type TpmReader } from './marshal.js';
import { marshalPcrSelections, type PcrSelection } from './pcr.js';

export type SessionType = 'policy' | 'trial';

// TPM2_StartAuthSession (Part 3 §11.1) for a sha256 policy or trial session, unbound and unsalted:
// the session authorizes by the PCR state it asserts, not by a shared secret, so there is nothing
// for binding or a salt to protect, and no parameter encryption is needed for non-secret inputs.
export async function startAuthSession(tpm: CommandRunner, type: SessionType): Promise<number> {
  const params = new TpmWriter()
    .tpm2b(randomBytes(HASH_SIZE.sha256)) // nonceCaller: 16..32 bytes for sha256
    .tpm2b(new Uint8Array(0)) // encryptedSalt: none
    .u8(type === 'trial' ? TPM_SE.TRIAL : TPM_SE.POLICY)
    .u16(TPM_ALG.NULL) // symmetric: no parameter encryption
    .u16(TPM_ALG.SHA256) // authHash
    .finish();
  const spec: CommandSpec = { cc: 'StartAuthSession', handles: [TPM_RH.NULL, TPM_RH.NULL], params, responseHandles: 1 };
  return runCreating(tpm, spec, TPM_HT.POLICY_SESSION, 'sessionHandle', (r, session) => {
    r.tpm2b('nonceTPM');
    r.end();
    return session;
  });
}

// TPM2_PolicyPCR (Part 3 §23.7) with an empty pcrDigest: the TPM uses the PCRs' current values.
export async function policyPcr(tpm: CommandRunner, session: number, sel: PcrSelection): Promise<void> {
  const params = marshalPcrSelections(new TpmWriter().tpm2b(new Uint8Array(0)), [sel]).finish();
  const { params: r } = await tpm.run({ cc: 'PolicyPCR', handles: [session], params });
  r.end();
}

// TPM2_PolicyGetDigest (Part 3 §23.19)
export async function policyGetDigest(tpm: CommandRunner, session: number): Promise<Uint8Array> {
  const { params: r } = await tpm.run({ cc: 'PolicyGetDigest', handles: [session] });
  const digest = r.tpm2b('policyDigest');
  r.end();
  return digest;
}

// TPM2_FlushContext (Part 3 §28.4): the handle is a parameter, not in the handle area.
export async function flushContext(tpm: CommandRunner, handle: number): Promise<void> {
  const { params: r } = await tpm.run({ cc: 'FlushContext', params: new TpmWriter().u32(handle).finish() });
  r.end();
}

// Runs a command that creates one handle of kind `type` (TPM_HT) and parses the rest of its response.
// If that rest is malformed the handle is flushed before the error goes up: nobody else knows it, and
// it would hold one of the TPM's few session/object slots until the next TPM reset. A handle of the
// wrong kind, or one the command was given (e.g. Load's parent), is never flushed: it is not new.
export async function runCreating<T>(tpm: CommandRunner, spec: CommandSpec, type: number, what: string, parse: (params: TpmReader, handle: number) => T): Promise<T> {
  const flushCreated = async (handle: number | undefined): Promise<void> => {
    if (handle === undefined || handle >>> 24 !== type || spec.handles?.includes(handle)) return;
    await flushContext(tpm, handle).catch(() => undefined); // the parse error is the one to report
  };
  let res;
  try {
    res = await tpm.run(spec);
  } catch (err) {
    if (err instanceof MalformedAfterHandles) await flushCreated(err.handles[0]);
    throw err;
  }
  const handle = createdHandle(res, type, what);
  try {
    return parse(res.params, handle);
  } catch (err) {
    await flushCreated(handle);
    throw err;
  }
}

// Runs fn, then flushes the handle whatever happened (swtpm has no resource manager to do it for us).
// A flush failing after fn failed must not hide fn's error (e.g. TPM_RC_POLICY_FAIL), so it is dropped then.
export async function withFlush<T>(tpm: CommandRunner, handle: number, fn: () => Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await fn();
  } catch (err) {
    await flushContext(tpm, handle).catch(() => undefined);
    throw err;
  }
  await flushContext(tpm, handle);
  return result;
}

// Runs fn with a fresh session and always flushes it.
export async function withSession<T>(tpm: CommandRunner, type: SessionType, fn: (session: number) => Promise<T>): Promise<T> {
  const session = await startAuthSession(tpm, type);
  return withFlush(tpm, session, () => fn(session));
}

const sha256 = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

// The PolicyPCR policy digest computed in JS (Part 3 §23.7.1), so a policy can be predicted for PCR
// values other than the current ones:
//   policyDigest' = H(policyDigest || TPM_CC_PolicyPCR || TPML_PCR_SELECTION || H(PCR values in index order))
export function computePolicyPcr(sel: PcrSelection, values: ReadonlyMap<number, Uint8Array>, previous: Uint8Array = new Uint8Array(32)): Uint8Array {
  if (sel.hash !== 'sha256') throw new EdgesealError('INTERNAL', `computePolicyPcr: expected a sha256 selection, found ${sel.hash}`);
  const ordered = [...new Set(sel.pcrs)].sort((a, b) => a - b).map((p) => {
    const v = values.get(p);
    if (!v) throw new EdgesealError('INTERNAL', `computePolicyPcr: expected a value for PCR ${p}, found none`);
    return v;
  });
  const cc = new TpmWriter().u32(TPM_CC.PolicyPCR).finish();
  return sha256(previous, cc, marshalPcrSelections(new TpmWriter(), [sel]).finish(), sha256(...ordered));
}
