import type { FleetStore } from './store/port.js';

// `--db` / config `store`: a postgres:// or postgresql:// URL selects PostgreSQL, anything else is a
// SQLite file path. Both adapters load on demand so that no other command pays for node:sqlite or pg.
export async function openFleetStore(db: string): Promise<FleetStore> {
  if (/^postgres(ql)?:\/\//.test(db)) {
    const { PgFleetStore } = await import('./store/pg-store.js');
    return PgFleetStore.open(db);
  }
  const { SqliteFleetStore } = await import('./store/sqlite-store.js');
  return SqliteFleetStore.open(db);
}
