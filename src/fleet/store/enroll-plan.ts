import type { Enrollment } from '../enrollment.js';
import type { DeviceRecord, EnrollOutcome } from './port.js';

// What an enrolment changes, decided once for both adapters. A new key retires the current one
// (a re-provisioned device restarts its sequence under the new key); the old key stays in history.
export interface EnrollPlan {
  outcome: EnrollOutcome;
  upsertDevice: boolean; // insert or set active with this hardware id
  retireCurrentKeys: boolean;
  insertKey: boolean;
}

export function planEnroll(existing: DeviceRecord | undefined, e: Enrollment): EnrollPlan {
  if (!existing) return { outcome: 'enrolled', upsertDevice: true, retireCurrentKeys: false, insertKey: true };
  const known = existing.keys.some((k) => k.keyId === e.keyId);
  if (!known) return { outcome: 'rekeyed', upsertDevice: true, retireCurrentKeys: true, insertKey: true };
  if (existing.status === 'decommissioned') return { outcome: 'reactivated', upsertDevice: true, retireCurrentKeys: false, insertKey: false };
  return { outcome: 'unchanged', upsertDevice: false, retireCurrentKeys: false, insertKey: false };
}
