import type { GateCandidate, RevocationResult } from '../core/gate.js';
import type { ImageKind } from '../core/target-meta.js';
import type { FileDigest } from '../io/file-digest.js';
import type { EdgesealError } from '../core/errors.js';
import { heldListProblem } from '../revocation/authenticate.js';
import { enforceRevocation } from '../revocation/enforce.js';
import { revocationTargetInfo } from '../revocation/tuf-source.js';
import type { FreshnessPolicy, Operation } from '../revocation/policy.js';
import type { RevocationList } from '../revocation/list.js';
import type { RevocationStatus } from '../revocation/store.js';
import { toGateCandidates } from '../ota/candidates.js';
import { checkFloor, type Floors } from '../trust/floors.js';
import { makeInstallRecord, parseInstallRecord, trustInstallRecord, type InstallRecordDoc } from '../tuf/offline/install-record.js';
import { findTarget, listTargets, refusal, verifyImage } from '../tuf/offline/verify-image.js';
import type { ListedTarget, MetadataFiles, TargetsView, TrustedMetadata, Verdict } from '../tuf/offline/types.js';

// The one image decision the boot check and the OTA gate share (STYLE §1): built once from trusted
// metadata, TPM floors and the revocation status, then a synchronous, pure `verify(meta, digest, now)`.

export interface ImageMeta {
  readonly targetName: string;
  readonly kind: ImageKind; // the configured kind of the image in this place
  // the A/B image's securityVersion is held to the TPM floor; fixed images are not (one floor, one image)
  readonly securityFloor: boolean;
}

export interface VerifierInputs {
  readonly trusted: TrustedMetadata;
  readonly files: MetadataFiles; // the bytes `trusted` was loaded from (pinned root first): install records are made of them
  readonly hardwareId: string;
  readonly floors: Floors;
  readonly revocations: (now: Date) => RevocationStatus; // the cache's status at `now` (in memory)
  readonly freshness: FreshnessPolicy;
  // the list inside the promoted metadata set, authenticated against `trusted` (finding 6: enforced even
  // when the held cache was forged to drop an entry)
  readonly promotedList?: RevocationList;
}

export type Refusal = Extract<Verdict, { ok: false }>;

// The image decision over one body of signed metadata: today's, or an installed image's install record.
export interface ImageJudge {
  // signed length of a target of `kind` (caps the streamed digest), or a refusal when nothing vouches for it
  expected(targetName: string, kind: ImageKind, now: Date): { ok: true; target: ListedTarget } | Refusal;
  verify(meta: ImageMeta, digest: FileDigest, now: Date): Verdict;
}

export interface ImageVerifier extends ImageJudge {
  readonly trusted: TrustedMetadata;
  readonly rootVersion: number;
  // the same decision over an install record's metadata, once it re-verifies from the pinned root (a refusal otherwise)
  forRecord(bytes: Uint8Array, now: Date): { ok: true; judge: ImageJudge; target: ListedTarget } | Refusal;
  // the install record for a target today's metadata vouches for
  recordFor(targetName: string, now: Date): InstallRecordDoc;
  candidates(now: Date): GateCandidate[];
  revocation(candidate: GateCandidate, now: Date, operation: Operation): RevocationResult;
  // the held revocation list checked against this verifier's metadata (from the TPM-pinned root); undefined: authenticated
  revocationProblem(now: Date): EdgesealError | undefined;
}

// Which target a slot holds is read from disk (slots.json, the install journal), not signed: a validly
// signed target of another kind (an app bundle in the firmware slot) must never pass as this image.
function kindRefusal(target: ListedTarget, kind: ImageKind): Refusal | undefined {
  if (target.custom.kind === kind) return undefined;
  return { ok: false, code: 'KIND_MISMATCH', message: `${target.name}: expected a ${kind} target (the configured image kind), found custom.kind ${target.custom.kind}` };
}

export function buildImageVerifier(inputs: VerifierInputs): ImageVerifier {
  const { trusted, hardwareId, floors, freshness, files } = inputs;

  // One implementation for boot and gate (src/revocation/enforce.ts): freshness for the operation first,
  // then the held list; no threshold is passed, so any revoked signer refuses (fail closed). A held list the
  // pinned-root metadata does not name is still enforced (it can only refuse more) but is never 'fresh'.
  const revocation = (subject: { name: string; sha256: string; version: string; keyids: readonly string[] }, now: Date, operation: Operation): RevocationResult => {
    const status = inputs.revocations(now);
    const subj = { targetName: subject.name, sha256: subject.sha256, version: subject.version, hardwareId, keyids: subject.keyids };
    const r = enforceRevocation(status, operation, subj, freshness, heldListProblem(status, () => revocationTargetInfo(trusted, now)), inputs.promotedList);
    return r.ok ? { ok: true } : { ok: false, code: r.code, message: r.message };
  };

  // Today's metadata or a record's vouches for the bytes; revocation and the floor are always today's.
  const judge = (vouching: TargetsView): ImageJudge => ({
    expected(targetName, kind, now) {
      let target: ListedTarget;
      try {
        target = findTarget(vouching, targetName, now);
      } catch (err) {
        return refusal(err);
      }
      return kindRefusal(target, kind) ?? { ok: true, target };
    },
    verify(meta, digest, now) {
      // TUF: length, sha256, hardware id (verifyImage) → image kind → revocation → TPM security floor (P3)
      const v = verifyImage(vouching, { targetName: meta.targetName, observed: digest, hardwareId, now });
      if (!v.ok) return v;
      const wrongKind = kindRefusal(v.target, meta.kind);
      if (wrongKind) return wrongKind;
      const c = v.target.custom;
      const r = revocation({ name: v.target.name, sha256: digest.sha256, version: c.version, keyids: v.keyids }, now, 'boot');
      if (!r.ok) return { ok: false, code: r.code, message: r.message };
      if (meta.securityFloor) {
        try {
          checkFloor(floors, 'securityVersion', c.securityVersion);
        } catch (err) {
          return refusal(err);
        }
      }
      return v;
    },
  });

  return {
    trusted,
    rootVersion: trusted.root.signed.version,
    ...judge(trusted),
    forRecord(bytes, now) {
      try {
        const { view, target } = trustInstallRecord(files.initialRoot, files.rootChain, parseInstallRecord(bytes), now);
        return { ok: true, judge: judge(view), target };
      } catch (err) {
        return refusal(err) as Refusal;
      }
    },
    recordFor(targetName, now) {
      return makeInstallRecord(files, trusted, targetName, now);
    },
    candidates(now) {
      return toGateCandidates(listTargets(trusted, now)).candidates;
    },
    revocation(candidate, now, operation) {
      return revocation({ name: candidate.name, sha256: candidate.sha256, version: candidate.custom.version, keyids: candidate.signedBy?.keyids ?? [] }, now, operation);
    },
    revocationProblem(now) {
      return heldListProblem(inputs.revocations(now), () => revocationTargetInfo(trusted, now));
    },
  };
}
