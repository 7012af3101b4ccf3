import { EdgesealError } from '../core/errors.js';
import { keyIdOf } from '../crypto/ed25519.js';
import { isValidId } from '../telemetry/event.js';

// One device report key as the fleet registry holds it (what `edgeseal provision` wrote to device.json).
export interface Enrollment {
  fleet: string;
  deviceId: string;
  hardwareId: string;
  publicKey: string; // ed25519, 64 lowercase hex
  keyId: string; // TUF keyid of publicKey
}

const HEX64 = /^[0-9a-f]{64}$/;

// Parses one device.json object (or a JSON line of the same fields). The fleet comes from the record
// if present, else from --fleet; a record naming another fleet than --fleet is refused, not moved.
export function parseEnrollment(x: unknown, defaultFleet: string | undefined, source: string): Enrollment {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new EdgesealError('CONFIG_INVALID', `${source}: expected a device.json object, found ${Array.isArray(x) ? 'array' : typeof x}`);
  const o = x as Record<string, unknown>;
  const str = (k: string): string | undefined => (typeof o[k] === 'string' ? (o[k]) : undefined);
  const fleet = str('fleet') ?? defaultFleet;
  const problems: string[] = [];
  if (fleet === undefined) problems.push('fleet: expected in the record or from --fleet, found neither');
  else if (!isValidId(fleet)) problems.push(`fleet: expected [A-Za-z0-9._-]{1,128}, found ${JSON.stringify(fleet)}`);
  if (defaultFleet !== undefined && fleet !== undefined && fleet !== defaultFleet) problems.push(`fleet: expected ${defaultFleet} (--fleet), found ${fleet}`);
  const deviceId = str('deviceId') ?? '';
  if (!isValidId(deviceId)) problems.push(`deviceId: expected [A-Za-z0-9._-]{1,128}, found ${JSON.stringify(o.deviceId)}`);
  const hardwareId = str('hardwareId') ?? '';
  if (!isValidId(hardwareId)) problems.push(`hardwareId: expected [A-Za-z0-9._-]{1,128}, found ${JSON.stringify(o.hardwareId)}`);
  const publicKey = str('reportPublicKey') ?? '';
  if (!HEX64.test(publicKey)) problems.push('reportPublicKey: expected 64 lowercase hex characters');
  const keyId = HEX64.test(publicKey) ? keyIdOf(publicKey) : '';
  // A keyid that does not match the key means the file was edited or mixed up: never guess which half is right.
  if (keyId && o.reportKeyId !== undefined && o.reportKeyId !== keyId) problems.push(`reportKeyId: expected ${keyId} (derived from reportPublicKey), found ${JSON.stringify(o.reportKeyId)}`);
  if (problems.length) throw new EdgesealError('CONFIG_INVALID', `${source}: ${problems.join('; ')}`);
  return { fleet: fleet as string, deviceId, hardwareId, publicKey, keyId };
}

// Parses JSON lines (stdin); blank lines skipped, each line named by number in errors.
export function parseEnrollmentLines(text: string, defaultFleet: string | undefined, source: string): Enrollment[] {
  const out: Enrollment[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let x: unknown;
    try {
      x = JSON.parse(line);
    } catch (err) {
      throw new EdgesealError('CONFIG_INVALID', `${source} line ${i + 1}: expected JSON, found unparseable text`, { cause: err });
    }
    out.push(parseEnrollment(x, defaultFleet, `${source} line ${i + 1}`));
  });
  return out;
}
