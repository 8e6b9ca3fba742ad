/**
 * A map that keeps at most `capacity` entries, forgetting the least recently used first. For every
 * cache whose keys can come from a caller (expression text, URLs, content): memory stays bounded
 * however many distinct keys arrive (issue 14.3).
 */
export class LruCache<K, V> {
  private readonly entries = new Map<K, V>();
  /** The key at the young end of `entries` (the last one set or got), if any. */
  private youngest: K | undefined;

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
    // A Map iterates in insertion order: re-inserting moves the key to the young end, where the key
    // last set or got already is (the validator asks for one profile's tree several times in a row).
    if (value !== undefined && key !== this.youngest) {
      this.entries.delete(key);
      this.entries.set(key, value);
      this.youngest = key;
    }
    return value;
  }

  /** Stores a value (undefined is not stored), forgetting the oldest entry past the capacity. */
  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    this.youngest = key;
    if (this.entries.size > this.capacity) {
      const [oldest, forgotten] = this.entries.entries().next().value as [K, V];
      this.entries.delete(oldest);
      this.onEvict?.(oldest, forgotten);
    }
  }

  /** Forgets everything. */
  clear(): void {
    this.entries.clear();
    this.youngest = undefined;
  }
}

/**
 * A bounded map keyed by a pair, for caches read far more often than written (compiled expressions
 * by base type and text, read on every evaluation). A hit is two Map look-ups of the keys as given:
 * no LruCache reordering (a delete and a re-insert per hit, dearer than the look-up), and no key
 * joined from the two (a new string to flatten and hash per call; expression texts run to a
 * kilobyte). Two generations: new and used pairs go into the young one; when it holds half the
 * capacity it becomes the old one and the former old one is dropped; a hit in the old one moves the
 * pair back to the young one. So at most `capacity` pairs are kept, and every pair among the last
 * `capacity / 2` distinct pairs set or got is still there.
 */
export class PairCache<A, B, V> {
  private young = new Map<A, Map<B, V>>();
  private old = new Map<A, Map<B, V>>();
  private youngPairs = 0;
  private oldPairs = 0;
  private readonly half: number;

  /** @param capacity - How many pairs to keep at most (at least 2). */
  constructor(readonly capacity: number) {
    if (!(capacity >= 2)) {
      throw new RangeError(`Pair cache capacity must be at least 2, not ${capacity}`);
    }
    this.half = Math.floor(capacity / 2);
  }

  /** How many pairs are kept now. */
  get size(): number {
    return this.youngPairs + this.oldPairs;
  }

  /** The value for `(a, b)`; undefined when absent. */
  get(a: A, b: B): V | undefined {
    const value = this.young.get(a)?.get(b);
    if (value !== undefined) {
      return value;
    }
    const older = this.old.get(a)?.get(b);
    if (older !== undefined) {
      this.removeOld(a, b);
      this.add(a, b, older);
    }
    return older;
  }

  /** Stores a value (a value of undefined reads as absent). */
  set(a: A, b: B, value: V): void {
    const inner = this.young.get(a);
    if (inner?.has(b)) {
      inner.set(b, value);
      return;
    }
    this.removeOld(a, b);
    this.add(a, b, value);
  }

  /** Forgets everything. */
  clear(): void {
    this.young.clear();
    this.old.clear();
    this.youngPairs = this.oldPairs = 0;
  }

  private removeOld(a: A, b: B): void {
    const inner = this.old.get(a);
    if (inner?.delete(b)) {
      this.oldPairs--;
      if (inner.size === 0) {
        this.old.delete(a);
      }
    }
  }

  private add(a: A, b: B, value: V): void {
    if (this.youngPairs >= this.half) {
      this.old = this.young;
      this.oldPairs = this.youngPairs;
      this.young = new Map();
      this.youngPairs = 0;
    }
    let inner = this.young.get(a);
    if (inner === undefined) {
      inner = new Map();
      this.young.set(a, inner);
    }
    inner.set(b, value);
    this.youngPairs++;
  }
}
