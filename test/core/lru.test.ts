import fc from 'fast-check';
import { LruCache } from '../../src/core/lru';

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
