// Group commit: many callers each wait for "my item is durable"; items that arrive while commits are
// running form the next batch, so one commit covers every item in flight. At most `concurrency`
// commits run at once (1 for SQLite, whose writers are serialised anyway; more for PostgreSQL, where
// each runs on its own connection and the server flushes concurrent commits together). A failed
// commit fails every item in that batch and none of any other.
export class GroupCommit<T, R> {
  private pending: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  private running = 0;
  private scheduled = false;

  // `commit` stores the batch durably and returns one shared result (e.g. counts) for it.
  constructor(
    private readonly commit: (items: T[]) => Promise<R>,
    private readonly maxBatch: number,
    private readonly concurrency = 1,
  ) {}

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.running >= this.concurrency || this.scheduled) return;
      // After the current macrotask: items that arrived in the same read from the socket share a commit.
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.drain();
      });
    });
  }

  private drain(): void {
    while (this.pending.length > 0 && this.running < this.concurrency) {
      const batch = this.pending.splice(0, this.maxBatch);
      this.running += 1;
      this.commit(batch.map((b) => b.item)).then(
        (r) => batch.forEach((b) => b.resolve(r)),
        (err: unknown) => batch.forEach((b) => b.reject(err)),
      ).finally(() => {
        this.running -= 1;
        this.drain();
      });
    }
  }
}
