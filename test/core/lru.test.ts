import fc from 'fast-check';
import { LruCache, PairCache } from '../../src/core/lru';

describe('LruCache', () => {
  // Also few keys and a small capacity: a key got again after other keys were set must still move to
  // the young end (the get of the key already there is skipped), which only evictions can show.
  test.each([
    [8, 20],
    [4, 4],
  ])(
    'keeps at most its capacity %i, forgetting the least recently used first (keys 0–%i)',
    (maxCapacity, maxKey) => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: maxCapacity }),
          fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: maxKey })), { maxLength: 100 }),
          (capacity, operations) => {
            const evicted: [number, number][] = [];
            const cache = new LruCache<number, number>(capacity, (k, v) => evicted.push([k, v]));
            // A model: keys from least to most recently used.
            let order: number[] = [];
            for (const [isSet, key] of operations) {
              if (isSet) {
                cache.set(key, key * 10);
                order = [...order.filter((k) => k !== key), key];
                if (order.length > capacity) {
                  // The entry forgotten is the model's least recently used, told to onEvict.
                  expect(evicted.pop()).toEqual([order[0], order[0]! * 10]);
                  order = order.slice(1);
                }
                expect(evicted).toEqual([]);
              } else {
                const got = cache.get(key);
                expect(got).toBe(order.includes(key) ? key * 10 : undefined);
                if (order.includes(key)) {
                  order = [...order.filter((k) => k !== key), key];
                }
              }
              expect(cache.size).toBe(order.length);
              expect(cache.size).toBeLessThanOrEqual(capacity);
            }
          }
        )
      );
    }
  );

  test('a key got again after another was set moves to the young end (the repeated get skips only the youngest)', () => {
    const evicted: number[] = [];
    const cache = new LruCache<number, number>(2, (key) => evicted.push(key));
    cache.set(0, 0);
    cache.get(0);
    cache.set(1, 10);
    cache.get(0);
    cache.get(0);
    cache.set(2, 20);
    expect(evicted).toEqual([1]);
    expect([cache.get(0), cache.get(1), cache.get(2)]).toEqual([0, undefined, 20]);
  });

  test('refuses a capacity below one', () => {
    expect(() => new LruCache(0)).toThrow(RangeError);
  });
});

describe('PairCache', () => {
  test('answers what was last set, keeps at most its capacity and every pair of the last capacity / 2 used', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 9 }),
        fc.array(
          fc.tuple(
            fc.boolean(),
            fc.integer({ min: 0, max: 4 }),
            fc.constantFrom('', 'a', 'b', 'c'),
            fc.integer()
          ),
          { maxLength: 150 }
        ),
        (capacity, operations) => {
          const cache = new PairCache<number, string, number>(capacity);
          const last = new Map<string, number>(); // what each pair was last set to
          let used: [number, string][] = []; // distinct pairs from least to most recently set or got (hit)
          const touch = (a: number, b: string): void => {
            used = [...used.filter(([x, y]) => x !== a || y !== b), [a, b]];
          };
          for (const [isSet, a, b, value] of operations) {
            if (isSet) {
              cache.set(a, b, value);
              last.set(`${a}|${b}`, value);
              touch(a, b);
            } else {
              const got = cache.get(a, b);
              // Never a stale or invented value, nor another pair's: absent, or the last value set.
              if (got !== undefined) {
                expect(got).toBe(last.get(`${a}|${b}`));
                touch(a, b);
              }
            }
            // The last capacity / 2 pairs used are all kept (got again in the same order).
            for (const [x, y] of used.slice(-Math.floor(capacity / 2))) {
              expect(cache.get(x, y)).toBe(last.get(`${x}|${y}`));
            }
            expect(cache.size).toBeLessThanOrEqual(capacity);
          }
        }
      )
    );
  });

  test('forgets pairs not used within a generation, so memory stays bounded under distinct keys', () => {
    const cache = new PairCache<string, string, number>(8);
    for (let i = 0; i < 1000; i++) {
      cache.set(`a${i % 7}`, `b${i}`, i);
    }
    expect(cache.size).toBeLessThanOrEqual(8);
    expect(cache.get('a0', 'b0')).toBeUndefined();
    expect(cache.get('a5', 'b999')).toBe(999);
    expect(cache.get('a6', 'b999')).toBeUndefined();
    cache.clear();
    expect(cache.size).toBe(0);
    expect(cache.get('a5', 'b999')).toBeUndefined();
  });

  test('refuses a capacity below two', () => {
    expect(() => new PairCache(1)).toThrow(RangeError);
  });
});
