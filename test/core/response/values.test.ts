import type { TypedValue } from '../../../src/core/response/values';
import {
  cloneJson,
  compareValues,
  decimalPlaces,
  isWellFormed,
  jsonEqual,
  singleValueOf,
  typedValuesOf,
  valuesEqual,
} from '../../../src/core/response/values';

const v = (type: TypedValue['type'], value: unknown): TypedValue => ({ type, value });

describe('values', () => {
  test.each(['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf'])(
    'an answer key value%s is not a typed value (Object.prototype members are not types)',
    (suffix) => {
      const answer = JSON.parse(`{"value${suffix}": {"x": 1}}`) as Record<string, unknown>;
      expect(typedValuesOf(answer, 'value')).toEqual([]);
      expect(singleValueOf(answer, 'value')).toBeUndefined();
      const both = { ...answer, valueString: 'a' };
      expect(typedValuesOf(both, 'value')).toEqual([v('string', 'a')]);
      expect(singleValueOf(both, 'value')).toEqual(v('string', 'a'));
    }
  );

  test.each([
    [v('integer', 2), v('decimal', 2.5), -1],
    [v('date', '2020-01-02'), v('dateTime', '2020-01-01T23:00:00Z'), 1],
    [v('date', '2020-01-02'), v('dateTime', '2020-01-03T00:00:00Z'), -1],
    [v('date', '2020-01-01'), v('dateTime', '2020-01-01T10:00:00Z'), undefined],
    [v('date', '2020-02'), v('date', '2020-01-31'), 1],
    [v('dateTime', '2020-01-01T00:30:00+01:00'), v('dateTime', '2019-12-31T23:30:00Z'), 0],
    [v('dateTime', '2020-01-01T10:00:00Z'), v('dateTime', '2020-01-01T10:00:00.500Z'), -1],
    [v('time', '10:00:00'), v('time', '09:59:59'), 1],
    [v('string', 'a'), v('uri', 'a'), 0],
    [v('string', 'a'), v('integer', 1), undefined],
    [v('Coding', { code: 'a' }), v('Coding', { code: 'a' }), undefined],
  ])('compareValues(%j, %j) = %s', (a, b, expected) => {
    expect(compareValues(a, b)).toBe(expected);
  });

  test('valuesEqual matches codings on code and on system when given', () => {
    expect(valuesEqual(v('Coding', { system: 's', code: 'a' }), v('Coding', { code: 'a' }))).toBe(true);
    expect(valuesEqual(v('Coding', { code: 'a' }), v('Coding', { system: 's', code: 'a' }))).toBe(false);
    expect(valuesEqual(v('boolean', true), v('string', 'true'))).toBe(false);
    expect(valuesEqual(v('Attachment', {}), v('Attachment', {}))).toBe(false);
  });

  test('isWellFormed follows the R4 lexical forms', () => {
    expect(isWellFormed(v('date', '2020-02-29'))).toBe(true);
    expect(isWellFormed(v('date', '2020-2-1'))).toBe(false);
    expect(isWellFormed(v('dateTime', '2020-02-01T10:00:00'))).toBe(false);
    expect(isWellFormed(v('dateTime', '2020-02-01T10:00:00.123+14:00'))).toBe(true);
    expect(isWellFormed(v('time', '24:00:00'))).toBe(false);
    expect(isWellFormed(v('integer', 2 ** 31))).toBe(false);
    expect(isWellFormed(v('decimal', Infinity))).toBe(false);
    expect(isWellFormed(v('string', ''))).toBe(false);
  });

  test('decimalPlaces counts digits after the point, exponent notation included', () => {
    expect([1, 1.5, 82.55, 1e-7, 1.25e-5, 1e21].map(decimalPlaces)).toEqual([0, 1, 2, 7, 7, 0]);
  });

  test('cloneJson copies deeply and drops non-enumerable properties', () => {
    const source: Record<string, unknown> = { a: [{ b: 1 }] };
    Object.defineProperty(source, 'hidden', { value: 1, enumerable: false });
    const copy = cloneJson(source);
    expect(copy).toEqual({ a: [{ b: 1 }] });
    expect(Object.getOwnPropertyNames(copy)).toEqual(['a']);
    expect(copy.a).not.toBe(source.a);
    expect(jsonEqual({ x: 1, y: [1, 2] }, { y: [1, 2], x: 1 })).toBe(true);
    expect(jsonEqual({ x: 1 }, { x: 1, y: undefined })).toBe(false);
  });
});
