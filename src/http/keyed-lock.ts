/** Thrown by {@link KeyedLock.run} when a key already has as much work queued as the lock admits. */
export class QueueFull extends Error {
  constructor(readonly key: string) {
    super('Too much work is queued for this key');
    this.name = 'QueueFull';
  }
}

/**
 * Runs async work one at a time per key, in arrival order; different keys run concurrently. Used to
 * serialise submissions of the same QuestionnaireResponse (by logical id) so that one instance never
 * races itself on the upstream's conditional writes. It does not coordinate several instances: that is
 * the upstream server's job. Each key's queue is bounded (`maxPerKey`, running work included), so that
 * requests for one key cannot pile up without limit behind each other.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();
  private readonly counts = new Map<string, number>();

  /** @param maxPerKey - The most work queued or running per key; past it `run` throws {@link QueueFull}. */
  constructor(private readonly maxPerKey = Number.POSITIVE_INFINITY) {}

  /**
   * Runs `work` after every earlier work for the same key has settled.
   * @param key - The key (e.g. the QuestionnaireResponse id).
   * @param work - The work.
   */
  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const queued = this.counts.get(key) ?? 0;
    if (queued >= this.maxPerKey) {
      throw new QueueFull(key);
    }
    this.counts.set(key, queued + 1);
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
      const left = (this.counts.get(key) ?? 1) - 1;
      if (left === 0) {
        this.counts.delete(key);
      } else {
        this.counts.set(key, left);
      }
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
