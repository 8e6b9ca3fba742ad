import fc from 'fast-check';
import { copyJson } from '../../src/core/json';

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
