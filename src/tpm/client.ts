import * as capability from './capability.js';
import { TransportRunner, type Auth, type CommandResult, type CommandRunner, type CommandSpec, type RunnerOptions } from './command.js';
import type { HashName } from './constants.js';
import * as nv from './nv.js';
import * as object from './object.js';
import * as pcr from './pcr.js';
import * as policy from './policy.js';
import * as salted from './salted-session.js';
import type { Protection, SaltKey } from './salted-session.js';
import * as seal from './seal.js';
import { unsealAuthorizedInScope, type SignedPcrPolicy } from './seal-authorized.js';
import { openTransport, type TpmConfig, type TpmTransport, type TransportOptions } from './transport.js';

// One TPM behind one transport: every TPM 2.0 command edgeseal uses, as methods. The command
// families live in their own modules (pcr, nv, policy, object, capability, seal); this is the facade.
export class TpmClient implements CommandRunner {
  private readonly runner: CommandRunner;

  constructor(
    private readonly transport: TpmTransport,
    opts: RunnerOptions = {},
  ) {
    this.runner = new TransportRunner(transport, opts);
  }

  // Opens the configured transport (TPM_UNREACHABLE if nothing answers there).
  static async open(config: TpmConfig, opts: TransportOptions & RunnerOptions = {}): Promise<TpmClient> {
    return new TpmClient(await openTransport(config, opts), opts);
  }

  get description(): string {
    return this.transport.description;
  }

  run(spec: CommandSpec): Promise<CommandResult> {
    return this.runner.run(spec);
  }

  close(): Promise<void> {
    return this.transport.close();
  }

  // TPM-wide
  startup(type: 'clear' | 'state' = 'clear') { return capability.startup(this, type); }
  getRandom(count: number) { return capability.getRandom(this, count); }
  readClock() { return capability.readClock(this); }
  getIdentity() { return capability.getIdentity(this); }
  getAlgorithms() { return capability.getAlgorithms(this); }
  getTpmProperties(first?: number) { return capability.getTpmProperties(this, first); }
  getPcrBanks() { return capability.getPcrBanks(this); }
  getHandles(handleType: number) { return capability.getHandles(this, handleType); }

  // PCRs
  pcrRead(sel: pcr.PcrSelection) { return pcr.pcrRead(this, sel); }
  pcrExtend(index: number, digests: readonly { hash: HashName; digest: Uint8Array }[]) { return pcr.pcrExtend(this, index, digests); }

  // sessions and policy
  startAuthSession(type: policy.SessionType) { return policy.startAuthSession(this, type); }
  policyPcr(session: number, sel: pcr.PcrSelection) { return policy.policyPcr(this, session, sel); }
  policyGetDigest(session: number) { return policy.policyGetDigest(this, session); }
  flushContext(handle: number) { return policy.flushContext(this, handle); }
  withSession<T>(type: policy.SessionType, fn: (session: number) => Promise<T>) { return policy.withSession(this, type, fn); }
  withFlush<T>(handle: number, fn: () => Promise<T>) { return policy.withFlush(this, handle, fn); }

  // objects
  createStoragePrimary(hierarchy?: number, auth?: Auth) { return object.createStoragePrimary(this, hierarchy, auth); }
  createSealed(parent: object.LoadedObject, data: Uint8Array, authPolicy: Uint8Array, protect?: Protection) { return object.createSealed(this, parent, data, authPolicy, protect); }
  load(parent: number, obj: object.SealedObject) { return object.load(this, parent, obj); }
  unseal(item: object.LoadedObject, auth: Auth, protect?: Protection) { return object.unseal(this, item, auth, protect); }
  startSaltedSession(key: SaltKey) { return salted.startSaltedSession(this, key); }

  // sealing to PCRs (composed, handles flushed)
  trialPolicyPcr(sel: pcr.PcrSelection) { return seal.trialPolicyPcr(this, sel); }
  sealToPcrs(data: Uint8Array, sel: pcr.PcrSelection, authPolicy?: Uint8Array, ownerAuth?: Auth, pinnedSaltName?: Uint8Array) { return seal.sealToPcrs(this, data, sel, authPolicy, ownerAuth, pinnedSaltName); }
  unsealWithPcrs(sealed: object.SealedObject, sel: pcr.PcrSelection, ownerAuth?: Auth, pinnedSaltName?: Uint8Array) { return seal.unsealWithPcrs(this, sealed, sel, ownerAuth, pinnedSaltName); }
  withSecureScope<T>(ownerAuth: Auth, pinnedSaltName: Uint8Array | undefined, fn: (scope: seal.SecureScope) => Promise<T>) { return seal.withSecureScope(this, ownerAuth, pinnedSaltName, fn); }
  unsealInScope(scope: seal.SecureScope, sealed: object.SealedObject, sel: pcr.PcrSelection) { return seal.unsealInScope(this, scope, sealed, sel); }
  unsealAuthorizedInScope(scope: seal.SecureScope, sealed: object.SealedObject, sel: pcr.PcrSelection, signed: SignedPcrPolicy) { return unsealAuthorizedInScope(this, scope, sealed, sel, signed); }

  // NV
  nvDefineSpace(def: nv.NvDefinition, hierarchy?: nv.NvAuth) { return nv.nvDefineSpace(this, def, hierarchy); }
  nvReadPublic(index: number) { return nv.nvReadPublic(this, index); }
  nvRead(index: number, size: number, offset?: number, auth?: nv.NvAuth, secure?: nv.NvSecureRead) { return nv.nvRead(this, index, size, offset, auth, secure); }
  nvWrite(index: number, data: Uint8Array, offset?: number, auth?: nv.NvAuth) { return nv.nvWrite(this, index, data, offset, auth); }
  nvWriteLock(index: number, auth?: nv.NvAuth) { return nv.nvWriteLock(this, index, auth); }
  nvIncrement(index: number, auth?: nv.NvAuth) { return nv.nvIncrement(this, index, auth); }
  nvSetBits(index: number, bits: bigint, auth?: nv.NvAuth) { return nv.nvSetBits(this, index, bits, auth); }
  nvReadCounter(index: number, auth?: nv.NvAuth, secure?: nv.NvSecureRead) { return nv.nvReadCounter(this, index, auth, secure); }
  nvUndefineSpace(index: number, hierarchy?: nv.NvAuth) { return nv.nvUndefineSpace(this, index, hierarchy); }
}
