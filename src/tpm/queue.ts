// Runs async jobs strictly one after another: a TPM has one command in flight per connection.
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job, job);
    // the next job waits for this one whether it succeeded or failed
    this.tail = result.catch(() => undefined);
    return result;
  }
}
