import {
  fhirTypeToJsType,
  isPrimitiveType as medplumIsPrimitiveType,
  validationRegexes,
} from '@medplum/core';

/**
 * Medplum's check of a primitive value (its JSON type and format), as one test per type built once.
 *
 * Medplum 4.5.2 (`validatePrimitiveType` and `validateString`) requires the JSON type of its table
 * `fhirTypeToJsType`; for a string, at most 1 MiB, not blank (`trim() !== ''`) and matching
 * `validationRegexes[type]`; for a number, finite, and an integer for the integer types, > 0 for
 * positiveInt, >= 0 for unsignedInt. The tests here give the same verdict with less work: no
 * match array per string (`test` instead of `exec`), the blank test decided by the first code unit
 * when it is printable ASCII (no `trim()` copy), xhtml's `.*` (which matches every string) not run,
 * numbers tested by their type's rules alone, code's regex as a loop over its (short) code units.
 * (A loop over the code units in place of the string and uri regexes was measured slower than V8's
 * compiled regexes on the output's strings.)
 *
 * Medplum 5 (the other peer version) also holds integer, positiveInt and unsignedInt to 32 bits
 * (`-2147483648..2147483647`, `1..`, `0..`). The tests require that range too, so they pass a value
 * only when both versions find nothing; an integer beyond it fails the test, and the walk leaves it to
 * whichever Medplum is loaded (4.5.2 accepts it, 5 reports it).
 * `test/core/validation/medplum-primitives.test.ts` holds every test equal to Medplum's own checks
 * on arbitrary strings (every single code unit, lone surrogates, controls) and numbers.
 */

/** How to check a primitive value as Medplum does. */
export interface PrimitivePlan {
  /** `typeof` the value must have (Medplum's table; anything but a type name fails every value). */
  readonly jsType: unknown;
  readonly regex: RegExp | undefined;
  readonly integer: boolean;
  readonly positive: boolean;
  readonly unsigned: boolean;
  /** The whole check, specialised for the type: true when Medplum (4.5.2 and 5) finds nothing. */
  readonly test: (value: unknown) => boolean;
}

/** Medplum's limit on a string's length. */
export const MAX_STRING = 1024 * 1024;

/** Medplum 5's bounds of the integer types (32 bits). */
export const INT_MIN = -2147483648;
export const INT_MAX = 2147483647;

/** Not blank (`v.trim() !== ''`), most often decided by the first code unit. */
function notBlank(v: string): boolean {
  const c = v.length > 0 ? v.charCodeAt(0) : 0x20;
  return (c > 0x20 && c < 0x80) || v.trim() !== '';
}

/**
 * For Medplum's whole-string regexes of one character class (string and markdown; uri, url and
 * canonical), a regex finding a code unit outside the class: without the `u` flag a class matches
 * code units, so `^[\r\n\t\u0020-\uFFFF]+$` fails a non-empty string exactly when it has a unit
 * in [\0-\x08\x0B\x0C\x0E-\x1F], and `^\S*$` exactly when it has a `\s`.
 */
const OUTSIDE = new Map<string, RegExp>([
  // eslint-disable-next-line no-control-regex -- the control characters are what it looks for
  ['^[\\r\\n\\t\\u0020-\\uFFFF]+$', /[\0-\x08\x0B\x0C\x0E-\x1F]/],
  ['^\\S*$', /\s/],
]);

/** Medplum's regex of `code`: words of non-white-space, one space between them. */
const CODE_SOURCE = '^[^\\s]+( [^\\s]+)*$';

/**
 * `/^[^\s]+( [^\s]+)*$/.test(v)` for a non-empty string, by its code units: no white space but
 * single spaces inside. Codes are short (7 units on average in the output), where a loop costs
 * about a third less than entering the regex.
 */
function isCodeText(v: string): boolean {
  let previous = 0x20; // a space before the first unit: a leading space fails
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 0x20) {
      if (previous === 0x20) {
        return false;
      }
    } else if (c < 0x20 ? c >= 0x09 && c <= 0x0d : c >= 0xa0 && isWideSpace(c)) {
      return false;
    }
    previous = c;
  }
  return previous !== 0x20;
}

/** JavaScript's `\s` above U+00A0 included (its line terminators and Unicode spaces). */
function isWideSpace(c: number): boolean {
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/** Medplum's check, unspecialised (for a type this module does not specialise). */
export function primitiveIsClean(v: unknown, plan: Omit<PrimitivePlan, 'test'>): boolean {
  if (plan.jsType === undefined || typeof v !== plan.jsType) {
    return false;
  }
  if (typeof v === 'string') {
    if (v.length > MAX_STRING || v.trim() === '') {
      return false;
    }
    return !plan.regex || plan.regex.exec(v) !== null;
  }
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || (plan.integer && !(Number.isInteger(v) && v >= INT_MIN && v <= INT_MAX))) {
      return false;
    }
    return !(plan.positive && v <= 0) && !(plan.unsigned && v < 0);
  }
  return true;
}

/** The specialised test of a plan (see the module comment); the unspecialised check otherwise. */
function testOf(type: string, plan: Omit<PrimitivePlan, 'test'>): (value: unknown) => boolean {
  const regex = plan.regex;
  // Specialised only when the plan is exactly Medplum's table for these types.
  if (plan.jsType === 'string' && regex !== undefined && !regex.global && !regex.sticky) {
    if (regex.source === '.*' && regex.flags === '') {
      // Unanchored and possibly empty: it matches every string.
      return (v) => typeof v === 'string' && v.length <= MAX_STRING && notBlank(v);
    }
    // A whole-string match of one character class is a search for a character outside it (the
    // string is not blank, so not empty): V8 runs the search in about half the time on long text.
    const outside = regex.flags === '' ? OUTSIDE.get(regex.source) : undefined;
    if (outside) {
      return (v) => typeof v === 'string' && v.length <= MAX_STRING && notBlank(v) && !outside.test(v);
    }
    if (regex.source === CODE_SOURCE && regex.flags === '') {
      return (v) => typeof v === 'string' && v.length <= MAX_STRING && notBlank(v) && isCodeText(v);
    }
    return (v) => typeof v === 'string' && v.length <= MAX_STRING && notBlank(v) && regex.test(v);
  }
  if (plan.jsType === 'boolean' && type === 'boolean') {
    return (v) => typeof v === 'boolean';
  }
  if (plan.jsType === 'number') {
    if (plan.positive) {
      return (v) => typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= INT_MAX;
    }
    if (plan.unsigned) {
      return (v) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= INT_MAX;
    }
    if (plan.integer) {
      return (v) => typeof v === 'number' && Number.isInteger(v) && v >= INT_MIN && v <= INT_MAX;
    }
    return (v) => typeof v === 'number' && Number.isFinite(v);
  }
  return (v) => primitiveIsClean(v, plan);
}

/**
 * The plans of the primitive types met so far. Bounded: only names Medplum's `isPrimitiveType`
 * accepts get a plan (its table's keys, `undefined`, and the names `in` finds on an object's
 * prototype, such as `toString`).
 */
const primitivePlans = new Map<string, PrimitivePlan | undefined>();

/**
 * The primitive checks for a type, or undefined when Medplum does not treat it as primitive. Looked
 * up as Medplum looks them up (plain property reads), so a type such as `toString` fails as it does.
 */
export function primitivePlan(type: string): PrimitivePlan | undefined {
  let plan = primitivePlans.get(type);
  if (plan === undefined && !primitivePlans.has(type) && medplumIsPrimitiveType(type)) {
    const checks = {
      jsType: (fhirTypeToJsType as Record<string, unknown>)[type],
      regex: validationRegexes[type],
      integer: type === 'integer' || type === 'positiveInt' || type === 'unsignedInt',
      positive: type === 'positiveInt',
      unsigned: type === 'unsignedInt',
    };
    plan = { ...checks, test: testOf(type, checks) };
    primitivePlans.set(type, plan);
  }
  return plan;
}
