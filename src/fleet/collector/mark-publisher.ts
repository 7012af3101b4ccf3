import { MAX_RANGES, signAckMark } from '../../telemetry/ack-mark.js';
import type { FleetStore } from '../store/port.js';
import type { CollectorKey } from './collector-key.js';

export interface MarkTarget {
  fleet: string;
  deviceId: string;
  keyId: string;
}

// At most one round of marks per this many ms: under load a device key gets one mark per round
// (one ranges query and one signature) instead of one per commit; a device waits this much longer.
const ROUND_MS = 100;
// And the pause after a round is at least this many times what the round took: with many device keys
// a round costs one query and one signature each, and back-to-back rounds took a third of the
// collector's CPU in the load bench. Marks only let devices clean their outbox: they may lag under load.
const PAUSE_PER_ROUND = 4;

export type PublishRetained = (topic: string, payload: string) => Promise<void>;

// Publishes, after commits, the signed ack mark of each device key that had events in them. Requests
// are coalesced: a key asked for again while a round runs gets one mark, read after the newest commit,
// in the next round (a mark is a snapshot of the stored ranges, so the latest supersedes the rest).
// Marks go out after the PUBACK: a lost one only delays the device's cleanup.
export class MarkPublisher {
  private wanted = new Map<string, MarkTarget>();
  private running = false;
  private stopped = false;

  constructor(
    private readonly store: FleetStore,
    private readonly key: CollectorKey,
    private readonly prefix: string,
    private readonly publish: PublishRetained,
    private readonly clock: () => Date,
    private readonly onError: (err: unknown) => void,
  ) {}

  want(targets: readonly MarkTarget[]): void {
    for (const t of targets) this.wanted.set(`${t.fleet}\u0000${t.deviceId}\u0000${t.keyId}`, { fleet: t.fleet, deviceId: t.deviceId, keyId: t.keyId });
    if (!this.running && !this.stopped) void this.run();
  }

  // Marks not yet published are dropped: the next collector run publishes fresh ones.
  stop(): void {
    this.stopped = true;
    this.wanted.clear();
  }

  private async run(): Promise<void> {
    this.running = true;
    while (this.wanted.size > 0) {
      const started = Date.now();
      const round = [...this.wanted.values()];
      this.wanted.clear();
      await Promise.all(round.map((t) => this.publishOne(t).catch(this.onError)));
      const took = Date.now() - started;
      if (this.wanted.size > 0) await new Promise((r) => setTimeout(r, Math.max(ROUND_MS - took, PAUSE_PER_ROUND * took)));
    }
    this.running = false;
  }

  private async publishOne(t: MarkTarget): Promise<void> {
    const ranges = await this.store.storedRanges(t.fleet, t.deviceId, t.keyId, MAX_RANGES);
    const signed = signAckMark({ ...t, ranges, time: this.clock().toISOString() }, this.key);
    await this.publish(`${this.prefix}/${t.fleet}/${t.deviceId}/ack`, JSON.stringify(signed));
  }
}
