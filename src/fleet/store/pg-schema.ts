// PostgreSQL schema migrations, applied in order inside one transaction under an advisory lock, so
// two collectors starting on one database never race. Never edit an applied entry: append one.
export const PG_MIGRATIONS: readonly string[] = [
  `CREATE TABLE devices (
     fleet TEXT NOT NULL, device_id TEXT NOT NULL, hardware_id TEXT NOT NULL,
     status TEXT NOT NULL, status_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (fleet, device_id));
   CREATE TABLE device_keys (
     fleet TEXT NOT NULL, device_id TEXT NOT NULL, key_id TEXT NOT NULL, public_key TEXT NOT NULL,
     hardware_id TEXT NOT NULL, enrolled_at TIMESTAMPTZ NOT NULL, retired_at TIMESTAMPTZ,
     PRIMARY KEY (fleet, device_id, key_id));
   CREATE TABLE events (
     fleet TEXT NOT NULL, device_id TEXT NOT NULL, key_id TEXT NOT NULL, seq BIGINT NOT NULL,
     device_time TIMESTAMPTZ NOT NULL, received_at TIMESTAMPTZ NOT NULL, type TEXT NOT NULL, verdict TEXT NOT NULL,
     code TEXT, digest TEXT NOT NULL, raw TEXT NOT NULL, PRIMARY KEY (fleet, device_id, key_id, seq));
   CREATE INDEX events_received ON events (received_at);
   CREATE TABLE rejected (
     id BIGSERIAL PRIMARY KEY, received_at TIMESTAMPTZ NOT NULL, reason TEXT NOT NULL, message TEXT NOT NULL,
     fleet TEXT, device_id TEXT, key_id TEXT, seq BIGINT, raw TEXT NOT NULL);
   CREATE INDEX rejected_received ON rejected (received_at);
   CREATE TABLE seq_conflicts (
     id BIGSERIAL PRIMARY KEY, fleet TEXT NOT NULL, device_id TEXT NOT NULL, key_id TEXT NOT NULL,
     seq BIGINT NOT NULL, stored_digest TEXT NOT NULL, new_digest TEXT NOT NULL, received_at TIMESTAMPTZ NOT NULL)`,
];
