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
