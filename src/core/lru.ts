/**
 * A map that keeps at most `capacity` entries, forgetting the least recently used first. For every
 * cache whose keys can come from a caller (expression text, URLs, content): memory stays bounded
 * however many distinct keys arrive (issue 14.3).
 */
export class LruCache<K, V> {
  private readonly entries = new Map<K, V>();

  /**
   * @param capacity - How many entries to keep (at least 1).
   * @param onEvict - Called with each entry forgotten to make room (e.g. to release what it names elsewhere).
   */
  constructor(
    readonly capacity: number,
    private readonly onEvict?: (key: K, value: V) => void
  ) {
    if (!(capacity >= 1)) {
      throw new RangeError(`LRU capacity must be at least 1, not ${capacity}`);
    }
  }

  /** How many entries are kept now. */
  get size(): number {
    return this.entries.size;
  }

  /** The value for `key`, marking it most recently used; undefined when absent. */
  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      // A Map iterates in insertion order: re-inserting moves the key to the young end.
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  /** Stores a value (undefined is not stored), forgetting the oldest entry past the capacity. */
  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) {
      const [oldest, forgotten] = this.entries.entries().next().value as [K, V];
      this.entries.delete(oldest);
      this.onEvict?.(oldest, forgotten);
    }
  }

  /** Forgets everything. */
  clear(): void {
    this.entries.clear();
  }
}

/**
 * A bounded map whose hit is one Map look-up, for caches read far more often than written (compiled
 * expressions, read on every evaluation): an LruCache hit deletes and re-inserts its key, which costs
 * more than the look-up itself. Two generations: new and used keys go into the young one; when it
 * holds half the capacity it becomes the old one and the former old one is dropped; a hit in the old
 * generation moves the key back to the young one. So at most `capacity` entries are kept, and every
 * key among the last `capacity / 2` distinct keys set or got is still there.
 */
export class GenerationalCache<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();
  private readonly half: number;

  /** @param capacity - How many entries to keep at most (at least 2). */
  constructor(readonly capacity: number) {
    if (!(capacity >= 2)) {
      throw new RangeError(`Generational cache capacity must be at least 2, not ${capacity}`);
    }
    this.half = Math.floor(capacity / 2);
  }

  /** How many entries are kept now. */
  get size(): number {
    return this.young.size + this.old.size;
  }

  /** The value for `key`; undefined when absent. */
  get(key: K): V | undefined {
    const value = this.young.get(key);
    if (value !== undefined) {
      return value;
    }
    const older = this.old.get(key);
    if (older !== undefined) {
      this.old.delete(key);
      this.add(key, older);
    }
    return older;
  }

  /** Stores a value (a value of undefined reads as absent). */
  set(key: K, value: V): void {
    if (this.young.has(key)) {
      this.young.set(key, value);
      return;
    }
    this.old.delete(key);
    this.add(key, value);
  }

  /** Forgets everything. */
  clear(): void {
    this.young.clear();
    this.old.clear();
  }

  private add(key: K, value: V): void {
    if (this.young.size >= this.half) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, value);
  }
}
