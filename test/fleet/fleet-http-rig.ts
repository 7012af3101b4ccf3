import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingestBatch } from '../../src/fleet/ingest.js';
import type { StatusMessage } from '../../src/fleet/inventory.js';
import { keyLookupFrom } from '../../src/fleet/registry.js';
import { SqliteFleetStore } from '../../src/fleet/store/sqlite-store.js';
import { simDevice } from './fleet-fixtures.js';

// A hostile device string: if it ever runs as markup, it sets a global the browser test looks for.
export const HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';

// A store filled with one device's real signed events (a refusal with a hostile detail, a gap at seq 5)
// and a forged event, received over the last few minutes before `now`.
export async function filledStore(now: number): Promise<{ store: SqliteFleetStore; statuses: Map<string, StatusMessage>; deviceId: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'es-http-'));
  const store = SqliteFleetStore.open(join(dir, 'fleet.db'));
  const d = simDevice(7, 'lab', 'board-a');
  await store.enroll(d.enrollment, new Date(now - 3600_000));
  const at = (minAgo: number): Date => new Date(now - minAgo * 60_000);
  await ingestBatch(store, keyLookupFrom(await store.devices()), [
    { raw: d.envelope(1, { type: 'boot-verification', verdict: 'ok', latencyMs: 40, rootVersion: 2 }), receivedAt: at(9) },
    { raw: d.envelope(2, { type: 'install', verdict: 'ok', image: { name: 'os.img', version: '1.0.0' }, keyids: ['ab'] }), receivedAt: at(8) },
    { raw: d.envelope(3, { type: 'commit', verdict: 'ok', image: { name: 'os.img', version: '1.0.0' } }), receivedAt: at(7) },
    { raw: d.envelope(4, { type: 'update-decision', verdict: 'refused', code: 'DIGEST_MISMATCH', latencyMs: 60, image: { name: 'os-evil.img' }, detail: HOSTILE }), receivedAt: at(6) },
    { raw: d.envelope(6, { type: 'revocation-refresh', verdict: 'ok', revocation: { version: 3, ageSeconds: 60 } }), receivedAt: at(5) },
    { raw: d.envelope(7, { type: 'boot-verification', verdict: 'ok', latencyMs: 20 }).replace('"latencyMs":20', '"latencyMs":21'), receivedAt: at(4) },
  ]);
  const statuses = new Map([[`lab/${d.enrollment.deviceId}`, { state: 'online', at: now - 60_000 }]]);
  return { store, statuses, deviceId: d.enrollment.deviceId, cleanup: async () => (await store.close(), await rm(dir, { recursive: true, force: true })) };
}
