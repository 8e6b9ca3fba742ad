import fc from 'fast-check';
import { GenerationalCache, LruCache } from '../../src/core/lru';

describe('LruCache', () => {
  test('keeps at most its capacity, forgetting the least recently used first', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 20 })), { maxLength: 100 }),
        (capacity, operations) => {
          const cache = new LruCache<number, number>(capacity);
          // A model: keys from least to most recently used.
          let order: number[] = [];
          for (const [isSet, key] of operations) {
            if (isSet) {
              cache.set(key, key * 10);
              order = [...order.filter((k) => k !== key), key];
              if (order.length > capacity) {
                order = order.slice(1);
              }
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
  });

  test('refuses a capacity below one', () => {
    expect(() => new LruCache(0)).toThrow(RangeError);
  });
});

describe('GenerationalCache', () => {
  test('answers what was last set, keeps at most its capacity and every key of the last capacity / 2 used', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 9 }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 20 }), fc.integer()), { maxLength: 150 }),
        (capacity, operations) => {
          const cache = new GenerationalCache<number, number>(capacity);
          const last = new Map<number, number>(); // what each key was last set to
          let used: number[] = []; // distinct keys from least to most recently set or got (hit)
          for (const [isSet, key, value] of operations) {
            if (isSet) {
              cache.set(key, value);
              last.set(key, value);
              used = [...used.filter((k) => k !== key), key];
            } else {
              const got = cache.get(key);
              // Never a stale or invented value: absent, or the last value set.
              if (got !== undefined) {
                expect(got).toBe(last.get(key));
                used = [...used.filter((k) => k !== key), key];
              }
            }
            // The last capacity / 2 keys used are all kept.
            for (const k of used.slice(-Math.floor(capacity / 2))) {
              expect(cache.get(k)).toBe(last.get(k));
            }
            expect(cache.size).toBeLessThanOrEqual(capacity);
          }
        }
      )
    );
  });

  test('forgets keys not used within a generation, so memory stays bounded under distinct keys', () => {
    const cache = new GenerationalCache<string, number>(8);
    for (let i = 0; i < 1000; i++) {
      cache.set(`k${i}`, i);
    }
    expect(cache.size).toBeLessThanOrEqual(8);
    expect(cache.get('k0')).toBeUndefined();
    expect(cache.get('k999')).toBe(999);
    cache.clear();
    expect(cache.size).toBe(0);
  });

  test('refuses a capacity below two', () => {
    expect(() => new GenerationalCache(1)).toThrow(RangeError);
  });
});
