/**
 * Runs async work one at a time per key, in arrival order; different keys run concurrently. Used to
 * serialise submissions of the same QuestionnaireResponse (by logical id) so that one instance never
 * races itself on the upstream's conditional writes. It does not coordinate several instances: that is
 * the upstream server's job.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  /**
   * Runs `work` after every earlier work for the same key has settled.
   * @param key - The key (e.g. the QuestionnaireResponse id).
   * @param work - The work.
   */
  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => done);
    this.tails.set(key, tail);
    await previous;
    try {
      return await work();
    } finally {
      release();
      if (this.tails.get(key) === tail) {
        this.tails.delete(key);
      }
    }
  }

  /** Keys with work queued or running (for tests and metrics). */
  get size(): number {
    return this.tails.size;
  }
}
