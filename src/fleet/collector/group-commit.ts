// Group commit: many callers each wait for "my item is durable"; items that arrive while a commit is
// running form the next batch, so one fsync covers every item in flight. Commits never overlap (one
// writer; SQLite serialises writers anyway) and run in arrival order. A failed commit fails every
// item in that batch and none of any other.
export class GroupCommit<T, R> {
  private pending: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  private running = false;

  // `commit` stores the batch durably and returns one shared result (e.g. counts) for it.
  constructor(
    private readonly commit: (items: T[]) => Promise<R>,
    private readonly maxBatch: number,
  ) {}

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      // After the current macrotask: items that arrived in the same read from the socket share a commit.
      if (!this.running) setImmediate(() => void this.drain());
    });
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatch);
      try {
        const r = await this.commit(batch.map((b) => b.item));
        for (const b of batch) b.resolve(r);
      } catch (err) {
        for (const b of batch) b.reject(err);
      }
    }
    this.running = false;
  }
}
