import fc from 'fast-check';
import { copyJson } from '../../src/core/json';
import { copyJson as oracleCopy } from './operations/oracle/json';

describe('copyJson', () => {
  test('gives what structuredClone gives for any JSON value, sharing nothing with the original', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const copy = copyJson(value);
        expect(copy).toEqual(structuredClone(value));
        if (typeof value === 'object' && value !== null) {
          expect(copy).not.toBe(value);
          expect(JSON.stringify(copy)).toBe(JSON.stringify(value));
        }
      })
    );
  });

  test('copies nested objects apart, keeps undefined members and skips hidden properties, like structuredClone', () => {
    const shared = { a: 1 };
    const value: Record<string, unknown> = { x: shared, y: [shared], z: undefined };
    Object.defineProperty(value, 'hidden', { value: 'meta', enumerable: false });
    const copy = copyJson(value);
    expect(copy).toEqual(structuredClone(value));
    expect(Object.keys(copy)).toEqual(['x', 'y', 'z']);
    (copy.x as { a: number }).a = 2;
    expect(shared.a).toBe(1);
    expect((copy.y as { a: number }[])[0]!.a).toBe(1);
  });

  test('keeps a parsed __proto__ key as an own property: the copy keeps the plain prototype and the data', () => {
    const value = JSON.parse('{"a":{"__proto__":{"polluted":true},"b":1}}') as Record<string, unknown>;
    const copy = copyJson(value);
    const inner = copy.a as Record<string, unknown>;
    expect(Object.getPrototypeOf(inner)).toBe(Object.prototype);
    expect(inner.polluted).toBeUndefined();
    expect(Object.keys(inner)).toEqual(['__proto__', 'b']);
    expect(JSON.stringify(copy)).toBe(JSON.stringify(value));
  });
});

describe('copyJson equals its frozen oracle (the Object.keys version it replaced)', () => {
  /** Own keys, order, values and prototypes, as text (JSON alone hides undefined and prototypes). */
  const shape = (value: unknown): unknown =>
    Array.isArray(value)
      ? ['array', value.length, ...value.map(shape)]
      : typeof value === 'object' && value !== null
        ? [
            Object.getPrototypeOf(value) === Object.prototype ? 'plain' : 'other',
            ...Object.keys(value).flatMap((k) => [k, shape((value as Record<string, unknown>)[k])]),
          ]
        : [typeof value, value];

  test('on any JSON value, with __proto__ keys, undefined members and sparse arrays', () => {
    const withOddities = fc.jsonValue().chain((json) =>
      fc.constantFrom(
        json,
        JSON.parse(`{"__proto__":${JSON.stringify(json) ?? 'null'},"x":1}`),
        { a: json, b: undefined, 1: 'one', 0: 'zero' },
        // eslint-disable-next-line no-sparse-arrays
        [json, , undefined]
      )
    );
    fc.assert(
      fc.property(withOddities, (value) => {
        expect(shape(copyJson(value))).toEqual(shape(oracleCopy(value)));
        expect(JSON.stringify(copyJson(value))).toBe(JSON.stringify(oracleCopy(value)));
      }),
      { numRuns: 300 }
    );
  });

  test('copies only own enumerable properties of an object with an enumerable inherited one', () => {
    const proto = { inherited: 'no' };
    const value = Object.assign(Object.create(proto) as Record<string, unknown>, { own: { deep: [1] } });
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { z: 1, a: [{}] });
    for (const v of [value, bare, { nested: value }]) {
      expect(shape(copyJson(v))).toEqual(shape(oracleCopy(v)));
    }
  });
});
