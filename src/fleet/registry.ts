import type { DeviceRecord } from './store/port.js';
import type { KeyLookup, KeyView } from './verify-event.js';

// In-memory view of the device registry for the verification hot path, rebuilt from the store.
export function keyLookupFrom(devices: readonly DeviceRecord[]): KeyLookup {
  const byDevice = new Map<string, KeyView>();
  for (const d of devices) {
    const keys = new Map(d.keys.map((k) => [k.keyId, Uint8Array.from(Buffer.from(k.publicKey, 'hex'))]));
    byDevice.set(`${d.fleet}/${d.deviceId}`, { status: d.status, keys });
  }
  return (fleet, deviceId) => byDevice.get(`${fleet}/${deviceId}`);
}
