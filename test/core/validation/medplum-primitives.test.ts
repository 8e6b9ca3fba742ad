import fc from 'fast-check';
import { fhirTypeToJsType, OperationOutcomeError, validateResource, validationRegexes } from '@medplum/core';
import type { Observation } from '@medplum/fhirtypes';
import { ensureIndexed } from '../../../src/core/validation/definitions';
import { createMedplumTier } from '../../../src/core/validation/medplum';
import {
  INT_MAX,
  INT_MIN,
  MAX_STRING,
  primitiveIsClean,
  primitivePlan,
} from '../../../src/core/validation/medplum-primitives';
import { r4Definitions } from '../../helpers/validation';

/**
 * Medplum 4.5.2's own check of a primitive (`validatePrimitiveType` / `validateString`), restated
 * from its source with its own table and regexes: the oracle of the specialised tests.
 */
function medplumVerdict(type: string, v: unknown): boolean {
  const jsType = (fhirTypeToJsType as Record<string, unknown>)[type];
  if (typeof v !== jsType) {
    return false;
  }
  if (typeof v === 'string') {
    const regex = validationRegexes[type];
    return v.length <= MAX_STRING && v.trim() !== '' && (!regex || regex.exec(v) !== null);
  }
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) {
      return false;
    }
    if ((type === 'integer' || type === 'positiveInt' || type === 'unsignedInt') && !Number.isInteger(v)) {
      return false;
    }
    return !(type === 'positiveInt' && v <= 0) && !(type === 'unsignedInt' && v < 0);
  }
  return true;
}

/**
 * Medplum 5's range of the integer types (32 bits), which 4.5.2 does not check: a test passes a
 * value only when it is in range too (then both versions find nothing).
 */
function inRange(type: string, v: unknown): boolean {
  if (typeof v !== 'number' || !['integer', 'positiveInt', 'unsignedInt'].includes(type)) {
    return true;
  }
  return v >= INT_MIN && v <= INT_MAX;
}

const TYPES = Object.keys(fhirTypeToJsType).filter((t) => t !== 'http://hl7.org/fhirpath/System.String');
const STRING_RE = /^[\r\n\t\u0020-\uFFFF]+$/;
const TOKEN_RE = /^\S*$/;

// Strings of every kind of code unit: ASCII with controls and white space, any BMP unit including
// lone surrogates, white space outside ASCII, and whole code points beyond the BMP.
const unit = fc.oneof(
  fc.integer({ min: 0, max: 0x7f }),
  fc.integer({ min: 0, max: 0xffff }),
  fc.constantFrom(0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0, 0x1680, 0x2000, 0x200a, 0x200b, 0x2028),
  fc.constantFrom(0x2029, 0x202f, 0x205f, 0x3000, 0xfeff, 0x180e, 0x85, 0xd800, 0xdbff, 0xdc00, 0xdfff)
);
const text = fc.oneof(
  fc.array(unit, { maxLength: 24 }).map((units) => String.fromCharCode(...units)),
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc.constantFrom('', ' ', '\t', 'a b', 'x\u00a0', '\u00a0', '2025-01-02', '2025-13-01', 'urn:uuid:x y')
);
// JSON scalars (the walk decides arrays, objects and null before a primitive's test).
const scalar = fc.oneof(text, fc.double(), fc.integer(), fc.constantFrom(0, -0, 1, -1, 0.5, true, false));
const anyValue = fc.oneof(
  text,
  fc.double(),
  fc.integer(),
  fc.constantFrom(0, -0, 1, -1, 0.5, NaN, Infinity, -Infinity, true, false, null, undefined, [], {}, ['x'])
);

describe('Medplum primitive checks', () => {
  test("every string type's test gives Medplum's verdict on each of the 65,536 code units, alone and around a letter", () => {
    const stringTypes = TYPES.filter(
      (t) => fhirTypeToJsType[t as keyof typeof fhirTypeToJsType] === 'string'
    );
    expect(stringTypes).toEqual(
      expect.arrayContaining(['string', 'markdown', 'uri', 'url', 'canonical', 'code'])
    );
    const differing: string[] = [];
    for (const type of stringTypes) {
      const test = primitivePlan(type)!.test;
      for (let c = 0; c <= 0xffff; c++) {
        const unit = String.fromCharCode(c);
        for (const s of [unit, `a${unit}`, `${unit}a`]) {
          if (test(s) !== medplumVerdict(type, s)) {
            differing.push(`${type} ${c.toString(16)} ${JSON.stringify(s)}`);
          }
        }
      }
    }
    expect(differing).toEqual([]);
  });

  test('the string, markdown and uri tests equal trim() and the regexes they stand for on arbitrary strings', () => {
    expect(validationRegexes.string!.source).toBe(STRING_RE.source);
    expect(validationRegexes.markdown!.source).toBe(STRING_RE.source);
    for (const type of ['uri', 'url', 'canonical']) {
      expect(validationRegexes[type]!.source).toBe(TOKEN_RE.source);
    }
    fc.assert(
      fc.property(text, (s) => {
        const textVerdict = s.trim() !== '' && STRING_RE.test(s);
        const tokenVerdict = s.trim() !== '' && TOKEN_RE.test(s);
        expect(primitivePlan('string')!.test(s)).toBe(textVerdict);
        expect(primitivePlan('markdown')!.test(s)).toBe(textVerdict);
        expect(primitivePlan('uri')!.test(s)).toBe(tokenVerdict);
        expect(primitivePlan('canonical')!.test(s)).toBe(tokenVerdict);
      }),
      { numRuns: 2500 }
    );
  });

  test("the code test (a loop over code units) equals Medplum's code regex on arbitrary strings", () => {
    const codeRe = validationRegexes.code!;
    expect(codeRe.source).toBe('^[^\\s]+( [^\\s]+)*$');
    // Words and runs of white space, so that single, double, leading and trailing spaces all occur.
    const spaced = fc
      .array(fc.oneof(text, fc.constantFrom(' ', '  ', '\u00a0', '\t', 'a', 'ab')), { maxLength: 8 })
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(fc.oneof(text, spaced), (s) => {
        expect(primitivePlan('code')!.test(s)).toBe(s.trim() !== '' && codeRe.test(s));
      }),
      { numRuns: 5000 }
    );
  });

  test("each type's test gives Medplum's verdict on arbitrary values, and so does the unspecialised check", () => {
    expect(TYPES.length).toBeGreaterThan(15);
    fc.assert(
      fc.property(fc.constantFrom(...TYPES), anyValue, (type, v) => {
        const plan = primitivePlan(type)!;
        const verdict = medplumVerdict(type, v) && inRange(type, v);
        expect(plan.test(v)).toBe(verdict);
        expect(primitiveIsClean(v, plan)).toBe(verdict);
      }),
      { numRuns: 8000 }
    );
  });

  test("each test agrees with Medplum's validateResource on an element of its type", () => {
    ensureIndexed(r4Definitions(), ['Observation']);
    // Where each type sits in an otherwise valid Observation.
    const at: Record<string, (v: unknown) => Record<string, unknown>> = {
      string: (v) => ({ valueString: v }),
      integer: (v) => ({ valueInteger: v }),
      boolean: (v) => ({ valueBoolean: v }),
      dateTime: (v) => ({ valueDateTime: v }),
      time: (v) => ({ valueTime: v }),
      uri: (v) => ({ implicitRules: v }),
      instant: (v) => ({ issued: v }),
      id: (v) => ({ meta: { versionId: v } }),
      markdown: (v) => ({ note: [{ text: v }] }),
      decimal: (v) => ({ valueQuantity: { value: v } }),
      positiveInt: (v) => ({
        component: [
          { code: { text: 'c' }, valueSampledData: { origin: { value: 1 }, period: 1, dimensions: v } },
        ],
      }),
      canonical: (v) => ({ meta: { profile: [v] } }),
    };
    const accepts = (resource: Observation): boolean => {
      try {
        validateResource(resource);
        return true;
      } catch (err) {
        if (err instanceof OperationOutcomeError) {
          return false;
        }
        throw err;
      }
    };
    let rejected = 0;
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(at)), scalar, (type, v) => {
        const resource = {
          resourceType: 'Observation',
          status: 'final',
          code: { text: 'c' },
          ...at[type]!(v),
        };
        const verdict = accepts(resource as Observation);
        rejected += verdict ? 0 : 1;
        if (v === '') {
          // Medplum reads an empty string as absent; the walk leaves it to Medplum (test false).
          expect(primitivePlan(type)!.test(v)).toBe(false);
        } else {
          // Medplum 4.5.2 accepts an integer beyond 32 bits (Medplum 5 does not): the test leaves it.
          expect([type, v, primitivePlan(type)!.test(v)]).toEqual([type, v, verdict && inRange(type, v)]);
        }
      }),
      { numRuns: 1500 }
    );
    expect(rejected).toBeGreaterThan(100);
  });

  test('the edges each test must keep: length limit, blank strings, signed zero, xhtml', () => {
    const long = 'a'.repeat(MAX_STRING);
    for (const type of ['string', 'markdown', 'uri', 'code', 'xhtml', 'id']) {
      const plan = primitivePlan(type)!;
      expect([type, plan.test(`${long}a`)]).toEqual([type, false]);
      expect([type, plan.test('   ')]).toEqual([type, false]);
      expect([type, plan.test('')]).toEqual([type, false]);
      expect([type, plan.test(long)]).toEqual([type, medplumVerdict(type, long)]);
    }
    expect(primitivePlan('xhtml')!.test('<div>\u0000</div>')).toBe(true);
    expect(primitivePlan('unsignedInt')!.test(-0)).toBe(true);
    expect(primitivePlan('positiveInt')!.test(-0)).toBe(false);
    expect(primitivePlan('decimal')!.test(NaN)).toBe(false);
    expect(primitivePlan('integer')!.test(1.5)).toBe(false);
    // Medplum 5's 32-bit range (4.5.2 has none): inside it passes, beyond it is left to Medplum.
    expect(primitivePlan('integer')!.test(INT_MAX)).toBe(true);
    expect(primitivePlan('integer')!.test(INT_MIN)).toBe(true);
    expect(primitivePlan('integer')!.test(INT_MAX + 1)).toBe(false);
    expect(primitivePlan('integer')!.test(INT_MIN - 1)).toBe(false);
    expect(primitivePlan('positiveInt')!.test(INT_MAX)).toBe(true);
    expect(primitivePlan('positiveInt')!.test(INT_MAX + 1)).toBe(false);
    expect(primitivePlan('unsignedInt')!.test(INT_MAX + 1)).toBe(false);
    expect(primitivePlan('decimal')!.test(2 ** 40)).toBe(true);
  });

  test('an integer beyond 32 bits: the tier gives what the loaded Medplum gives (4.5.2 nothing, 5 an error)', () => {
    const tier = createMedplumTier(r4Definitions());
    for (const value of [INT_MAX + 1, INT_MIN - 1, 2 ** 52]) {
      const observation = {
        resourceType: 'Observation',
        status: 'final',
        code: { text: 'c' },
        valueInteger: value,
      } as Observation;
      let expected: unknown;
      try {
        expected = validateResource(observation);
      } catch (err) {
        expected = (err as OperationOutcomeError).outcome.issue;
      }
      expect(tier.validateBase(observation)).toEqual(expected);
    }
  });

  test('a plan only for names Medplum reads as primitive, the same plan each time', () => {
    expect(primitivePlan('Coding')).toBeUndefined();
    expect(primitivePlan('Patient')).toBeUndefined();
    expect(primitivePlan('string')).toBe(primitivePlan('string'));
    // Medplum's `in` test reads prototype names as primitive types that no value satisfies.
    const odd = primitivePlan('toString');
    expect(odd).toBeDefined();
    expect(odd!.test('x')).toBe(false);
    expect(odd!.test(1)).toBe(false);
    expect(primitivePlan('undefined')!.test(undefined)).toBe(false);
  });
});
