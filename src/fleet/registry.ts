import { reportKeyId } from '../telemetry/envelope.js';
import { publicKeyFromRaw } from '../telemetry/fast-ed25519.js';
import type { DeviceRecord } from './store/port.js';
import type { KeyLookup, KeyView } from './verify-event.js';

// In-memory view of the device registry for the verification hot path, rebuilt from the store. Each
// key is parsed into a KeyObject once here, not once per event, and filed under the keyid derived from
// its public key (not the stored column), so a signature found under a keyid is checked by that key.
export function keyLookupFrom(devices: readonly DeviceRecord[]): KeyLookup {
  const byDevice = new Map<string, KeyView>();
  for (const d of devices) {
    const keys = new Map(d.keys.map((k) => {
      const raw = Uint8Array.from(Buffer.from(k.publicKey, 'hex'));
      return [reportKeyId(raw), publicKeyFromRaw(raw)] as const;
    }));
    byDevice.set(`${d.fleet}/${d.deviceId}`, { status: d.status, keys });
  }
  return (fleet, deviceId) => byDevice.get(`${fleet}/${deviceId}`);
}
