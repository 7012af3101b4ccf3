// SQLite schema, one entry per version (PRAGMA user_version counts the applied ones). Never edit an
// applied entry: append a new one.
export const SQLITE_MIGRATIONS: readonly string[] = [
  `CREATE TABLE devices (
     fleet TEXT NOT NULL, device_id TEXT NOT NULL, hardware_id TEXT NOT NULL,
     status TEXT NOT NULL, status_at TEXT NOT NULL, PRIMARY KEY (fleet, device_id));
   CREATE TABLE device_keys (
     fleet TEXT NOT NULL, device_id TEXT NOT NULL, key_id TEXT NOT NULL, public_key TEXT NOT NULL,
     hardware_id TEXT NOT NULL, enrolled_at TEXT NOT NULL, retired_at TEXT,
     PRIMARY KEY (fleet, device_id, key_id));
   CREATE TABLE events (
     fleet TEXT NOT NULL, device_id TEXT NOT NULL, key_id TEXT NOT NULL, seq INTEGER NOT NULL,
     device_time TEXT NOT NULL, received_at TEXT NOT NULL, type TEXT NOT NULL, verdict TEXT NOT NULL,
     code TEXT, digest TEXT NOT NULL, raw TEXT NOT NULL, PRIMARY KEY (fleet, device_id, key_id, seq));
   CREATE INDEX events_received ON events (received_at);
   CREATE TABLE rejected (
     id INTEGER PRIMARY KEY AUTOINCREMENT, received_at TEXT NOT NULL, reason TEXT NOT NULL, message TEXT NOT NULL,
     fleet TEXT, device_id TEXT, key_id TEXT, seq INTEGER, raw TEXT NOT NULL);
   CREATE INDEX rejected_received ON rejected (received_at);
   CREATE TABLE seq_conflicts (
     id INTEGER PRIMARY KEY AUTOINCREMENT, fleet TEXT NOT NULL, device_id TEXT NOT NULL, key_id TEXT NOT NULL,
     seq INTEGER NOT NULL, stored_digest TEXT NOT NULL, new_digest TEXT NOT NULL, received_at TEXT NOT NULL);`,
];
