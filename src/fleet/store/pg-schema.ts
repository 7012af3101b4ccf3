export const PARTITION_LOCK = 0x65646766; // pg_advisory_xact_lock key for creating partitions

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
  // v2: event rows partitioned by receive day (UTC), so retention drops whole days instead of
  // deleting rows. A unique key on a partitioned table must contain the partition key, and a
  // re-delivery can arrive on another day than the original: the row key (idempotency, seq conflicts)
  // moves to the unpartitioned, narrow event_keys. edgeseal_event_partition(day) creates a day's
  // partition under an advisory lock (two collectors may ask at once); existing rows move over.
  `CREATE TABLE event_keys (
     fleet TEXT NOT NULL, device_id TEXT NOT NULL, key_id TEXT NOT NULL, seq BIGINT NOT NULL,
     digest TEXT NOT NULL, received_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (fleet, device_id, key_id, seq));
   CREATE INDEX event_keys_received ON event_keys (received_at);
   ALTER TABLE events RENAME TO events_v1;
   ALTER INDEX events_received RENAME TO events_v1_received;
   CREATE TABLE events (
     fleet TEXT NOT NULL, device_id TEXT NOT NULL, key_id TEXT NOT NULL, seq BIGINT NOT NULL,
     device_time TIMESTAMPTZ NOT NULL, received_at TIMESTAMPTZ NOT NULL, type TEXT NOT NULL, verdict TEXT NOT NULL,
     code TEXT, digest TEXT NOT NULL, raw TEXT NOT NULL) PARTITION BY RANGE (received_at);
   CREATE INDEX events_key ON events (fleet, device_id, key_id, seq);
   CREATE INDEX events_received ON events (received_at);
   CREATE FUNCTION edgeseal_event_partition(day DATE) RETURNS VOID LANGUAGE plpgsql AS $f$
   BEGIN
     PERFORM pg_advisory_xact_lock(${PARTITION_LOCK});
     EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)',
       'events_' || to_char(day, 'YYYYMMDD'), day::text || ' 00:00:00+00', (day + 1)::text || ' 00:00:00+00');
   END $f$;
   SELECT edgeseal_event_partition(d) FROM (SELECT DISTINCT (received_at AT TIME ZONE 'UTC')::date AS d FROM events_v1) AS days;
   INSERT INTO events SELECT * FROM events_v1;
   INSERT INTO event_keys SELECT fleet, device_id, key_id, seq, digest, received_at FROM events_v1;
   DROP TABLE events_v1`,
];
