import { performance } from 'node:perf_hooks';
import { isEdgesealError } from '../core/errors.js';
import type { FileDigest } from '../io/file-digest.js';
import { refusal } from '../tuf/offline/verify-image.js';
import type { Verdict } from '../tuf/offline/types.js';
import type { ImageJudge, ImageVerifier } from './image-verifier.js';
import type { InstalledImage } from './installed-images.js';

export interface ImageOutcome {
  readonly image: InstalledImage;
  readonly verdict: Verdict;
  readonly digest?: FileDigest;
  readonly latencyMs: number;
  readonly vouchedBy?: 'install-record' | 'metadata'; // which signed metadata cleared a verified image
}

// One judge over one image: signed length first (caps the read), then the digest, then the synchronous verdict.
async function judgeImage(judge: ImageJudge, image: InstalledImage, now: Date): Promise<{ verdict: Verdict; digest?: FileDigest }> {
  const expected = judge.expected(image.target, image.kind, now);
  if (!expected.ok) return { verdict: expected };
  let digest: FileDigest;
  try {
    digest = await image.digest(expected.target.length);
  } catch (err) {
    if (isEdgesealError(err, 'OVERSIZED')) {
      return { verdict: { ok: false, code: 'LENGTH_MISMATCH', message: `${image.target}: expected ${expected.target.length} bytes at ${image.location}, found a longer image` } };
    }
    return { verdict: refusal(err) };
  }
  return { verdict: judge.verify({ targetName: expected.target.name, kind: image.kind, securityFloor: image.slot !== undefined }, digest, now), digest };
}

type Refusal = Extract<Verdict, { ok: false }>;

// Refusals that say the bytes are not the record's: today's metadata has the last word on them.
const NOT_THESE_BYTES = new Set(['LENGTH_MISMATCH', 'DIGEST_MISMATCH', 'UNKNOWN_TARGET']);

// Both refused: the record's word when its verified metadata vouched for these bytes (e.g. IMAGE_REVOKED),
// else today's, saying why the record was set aside.
function bothRefused(today: Refusal, byRecord: Refusal, recordVerified: boolean): Refusal {
  if (recordVerified && !NOT_THESE_BYTES.has(byRecord.code)) return byRecord;
  return { ...today, message: `${today.message} (install record set aside [${byRecord.code}] ${byRecord.message})` };
}

// One image, known by its bytes (docs/installed-images.md): its install record, once it re-verifies from
// the pinned root, vouches first; else today's metadata under the image's target name. Revocation and the
// securityVersion floor judge both. A record that fails is a hint set aside, never a reason to accept.
export async function checkImage(verifier: ImageVerifier, image: InstalledImage, now: Date): Promise<ImageOutcome> {
  const t0 = performance.now();
  const done = (o: { verdict: Verdict; digest?: FileDigest }, vouchedBy?: ImageOutcome['vouchedBy']): ImageOutcome => ({ image, ...o, ...(vouchedBy ? { vouchedBy } : {}), latencyMs: performance.now() - t0 });
  const record = image.record ? verifier.forRecord(image.record, now) : undefined;
  if (!record) return done(await judgeImage(verifier, image, now), 'metadata');
  const byRecord = record.ok ? await judgeImage(record.judge, { ...image, target: record.target.name }, now) : { verdict: record };
  if (byRecord.verdict.ok) return done(byRecord, 'install-record');
  const today = await judgeImage(verifier, image, now);
  if (today.verdict.ok) return done(today, 'metadata');
  const verdict = bothRefused(today.verdict, byRecord.verdict, record.ok);
  return done({ ...(verdict === byRecord.verdict ? byRecord : today), verdict });
}
