import { EdgesealError } from '../core/errors.js';
import { TPM_CC, TPM_RS_PW, TPM_ST, TPMA_SESSION, type CommandName } from './constants.js';
import { TpmReader, TpmWriter } from './marshal.js';
import { TpmResponseError, isRetryable } from './rc.js';
import type { Protection } from './salted-session.js';
import type { TpmTransport } from './transport.js';

// Authorization for one handle: the password pseudo-session, or a policy session we started.
// Policy sessions here are unbound and unsalted, so no HMAC is computed (none is needed without
// PolicyAuthValue/PolicyPassword; the PCR policy itself is the authorization).
// A 'raw' entry is a session area already computed (a salted session's HMAC, see salted-session.ts).
export type Auth = { kind: 'password'; password?: Uint8Array } | { kind: 'policy'; handle: number; continueSession?: boolean } | { kind: 'raw'; entry: SessionEntry };
export const EMPTY_PASSWORD: Auth = { kind: 'password' };

// One session's area in a command or response: handle (commands only), nonce, attributes, HMAC.
export interface SessionEntry {
  readonly handle: number;
  readonly nonce: Uint8Array;
  readonly attributes: number;
  readonly hmac: Uint8Array;
}

export interface CommandSpec {
  readonly cc: CommandName;
  readonly handles?: readonly number[];
  // one per handle that needs authorization, in handle order (Part 1 §18.7)
  readonly auths?: readonly Auth[];
  readonly params?: Uint8Array;
  // how many handles the response carries (e.g. 1 for CreatePrimary, Load, StartAuthSession)
  readonly responseHandles?: number;
  // a salted session appended to encrypt the first parameter and authenticate the response; it needs
  // the TPM Name of every handle (they enter cpHash)
  readonly protect?: Protection;
  readonly names?: readonly Uint8Array[];
}

export interface CommandResult {
  readonly handles: number[];
  // the response parameters; the parser must read them to the end (r.end())
  readonly params: TpmReader;
}

// Something that runs one TPM command: the client, or a fake in tests.
export interface CommandRunner {
  run(spec: CommandSpec): Promise<CommandResult>;
}

export interface RunnerOptions {
  // bounded retries for TPM_RC_RETRY / TPM_RC_YIELDED / TPM_RC_TESTING
  maxRetries?: number;
  retryDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const MAX_SESSIONS = 3;
const TPM_ST_RSP_COMMAND = 0x00c4;

function marshalAuth(w: TpmWriter, auth: Auth): void {
  if (auth.kind === 'password') {
    w.u32(TPM_RS_PW).tpm2b(new Uint8Array(0)).u8(0).tpm2b(auth.password ?? new Uint8Array(0));
  } else if (auth.kind === 'raw') {
    w.u32(auth.entry.handle).tpm2b(auth.entry.nonce).u8(auth.entry.attributes).tpm2b(auth.entry.hmac);
  } else {
    w.u32(auth.handle).tpm2b(new Uint8Array(0)).u8(auth.continueSession === false ? 0 : TPMA_SESSION.continueSession).tpm2b(new Uint8Array(0));
  }
}

// Part 1 §18: header (tag, commandSize, commandCode), handles, [authorizationSize, sessions], parameters.
export function marshalCommand(spec: CommandSpec): Uint8Array {
  const auths = spec.auths ?? [];
  if (auths.length > MAX_SESSIONS) throw new EdgesealError('INTERNAL', `TPM2_${spec.cc}: at most ${MAX_SESSIONS} sessions, got ${auths.length}`);
  const body = new TpmWriter();
  for (const h of spec.handles ?? []) body.u32(h);
  if (auths.length) body.sized32((w) => auths.forEach((a) => marshalAuth(w, a)));
  body.bytes(spec.params ?? new Uint8Array(0));
  const bodyBytes = body.finish();
  return new TpmWriter()
    .u16(auths.length ? TPM_ST.SESSIONS : TPM_ST.NO_SESSIONS)
    .u32(10 + bodyBytes.length)
    .u32(TPM_CC[spec.cc])
    .bytes(bodyBytes)
    .finish();
}

// A success response that was malformed after its handle area: the TPM did create these handles, so
// a caller that knows their kind can flush them (runCreating) instead of leaking them.
export class MalformedAfterHandles extends EdgesealError {
  constructor(
    readonly handles: readonly number[],
    cause: EdgesealError,
  ) {
    super(cause.code, cause.message, { cause });
  }
}

// A parsed response with what a session check needs: the parameter bytes as received and the session areas.
export interface ParsedResponse extends CommandResult {
  readonly raw: { readonly params: Uint8Array; readonly sessions: readonly SessionEntry[] };
}

// Checks the header and splits a response into handles and parameters; throws TpmResponseError on rc ≠ 0.
export function parseResponse(spec: CommandSpec, rsp: Uint8Array): ParsedResponse {
  const what = `TPM2_${spec.cc} response`;
  const r = new TpmReader(rsp, what);
  const tag = r.u16('tag');
  const size = r.u32('responseSize');
  const rc = r.u32('responseCode');
  if (size !== rsp.length) throw r.malformed(`responseSize says ${size} bytes, received ${rsp.length}`);
  if (rc !== 0) {
    // an error response is a bare TPM_ST_NO_SESSIONS header (Part 1 §18.10; TPM_RC_BAD_TAG answers
    // with the TPM 1.2 tag 0x00C4); anything else is not a TPM talking
    if (size !== 10) throw r.malformed(`error response 0x${rc.toString(16)}: expected 10 bytes, found ${size}`);
    if (tag !== TPM_ST.NO_SESSIONS && tag !== TPM_ST_RSP_COMMAND) throw r.malformed(`error response tag: expected 0x8001, found 0x${tag.toString(16)}`);
    throw new TpmResponseError(spec.cc, rc);
  }
  const nAuths = spec.auths?.length ?? 0;
  const expectedTag = nAuths ? TPM_ST.SESSIONS : TPM_ST.NO_SESSIONS;
  if (tag !== expectedTag) throw r.malformed(`tag: expected 0x${expectedTag.toString(16)}, found 0x${tag.toString(16)}`);
  const handles: number[] = [];
  for (let i = 0; i < (spec.responseHandles ?? 0); i++) handles.push(r.u32(`handle[${i}]`));
  if (!nAuths) {
    const params = r.bytes(r.remaining, 'parameters');
    return { handles, params: new TpmReader(params, what), raw: { params, sessions: [] } };
  }
  try {
    const params = r.bytes(r.u32('parameterSize'), 'parameters');
    // one response session per command session: nonceTPM, sessionAttributes, hmac
    const sessions: SessionEntry[] = [];
    for (let i = 0; i < nAuths; i++) {
      const nonce = r.tpm2b(`session[${i}].nonce`);
      const attributes = r.u8(`session[${i}].attributes`);
      sessions.push({ handle: 0, nonce, attributes, hmac: r.tpm2b(`session[${i}].hmac`) });
    }
    r.end();
    return { handles, params: new TpmReader(params, what), raw: { params, sessions } };
  } catch (err) {
    if (handles.length && err instanceof EdgesealError) throw new MalformedAfterHandles(handles, err);
    throw err;
  }
}

// Marshals, sends and parses one command, resending it (bounded) while the TPM says retry/yielded/testing.
export class TransportRunner implements CommandRunner {
  private readonly maxRetries: number;
  private readonly retryDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    readonly transport: TpmTransport,
    opts: RunnerOptions = {},
  ) {
    this.maxRetries = opts.maxRetries ?? 5;
    this.retryDelayMs = opts.retryDelayMs ?? 20;
    this.sleep = opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async run(spec: CommandSpec): Promise<CommandResult> {
    for (let attempt = 0; ; attempt++) {
      // a salted session takes a fresh caller nonce per attempt, so the command is built anew each time
      const { wire, check } = spec.protect ? spec.protect.session.protect(spec, spec.protect) : { wire: spec, check: undefined };
      const rsp = await this.transport.send(marshalCommand(wire));
      try {
        const parsed = parseResponse(wire, rsp);
        return check ? check(parsed, parsed.raw) : parsed;
      } catch (err) {
        if (!(err instanceof TpmResponseError) || !isRetryable(err.rc) || attempt >= this.maxRetries) throw err;
      }
      await this.sleep(this.retryDelayMs * (attempt + 1));
    }
  }
}

// The handle a command created must be of the kind asked for (TPM_HT), or we would later use or
// flush something else entirely.
export function createdHandle(result: CommandResult, type: number, what: string): number {
  const h = result.handles[0];
  if (h === undefined || h >>> 24 !== type) {
    throw result.params.malformed(`${what}: expected a handle of type 0x${type.toString(16).padStart(2, '0')}, found 0x${(h ?? 0).toString(16).padStart(8, '0')}`);
  }
  return h;
}
