/**
 * Typed answer values: which `value[x]` an item type takes, whether a JSON value is well formed for
 * its FHIR type, and how two values compare. Shared by enableWhen, validation and calculation so
 * that "equal" and "greater than" mean the same thing everywhere.
 */

import { isObject } from '../json';

/** The FHIR types an answer, an enableWhen answer, an answerOption or a min/max limit can carry. */
export type ValueType =
  | 'boolean'
  | 'decimal'
  | 'integer'
  | 'date'
  | 'dateTime'
  | 'time'
  | 'string'
  | 'uri'
  | 'Coding'
  | 'Quantity'
  | 'Reference'
  | 'Attachment';

/** A value together with its FHIR type. */
export interface TypedValue {
  readonly type: ValueType;
  readonly value: unknown;
}

/**
 * `value[x]` suffix → FHIR type, for QuestionnaireResponse.item.answer.value[x]. A Map, not an object
 * literal: a key such as `valueconstructor` or `valuetoString` must not find `Object.prototype`'s
 * members and pass as a typed value.
 */
const SUFFIX_TYPES: ReadonlyMap<string, ValueType> = new Map(
  Object.entries({
    Boolean: 'boolean',
    Decimal: 'decimal',
    Integer: 'integer',
    Date: 'date',
    DateTime: 'dateTime',
    Time: 'time',
    String: 'string',
    Uri: 'uri',
    Coding: 'Coding',
    Quantity: 'Quantity',
    Reference: 'Reference',
    Attachment: 'Attachment',
  } satisfies Record<string, ValueType>)
);

/** The answer property for each type (`valueBoolean`, ...). */
export const ANSWER_KEY: Readonly<Record<ValueType, string>> = {
  boolean: 'valueBoolean',
  decimal: 'valueDecimal',
  integer: 'valueInteger',
  date: 'valueDate',
  dateTime: 'valueDateTime',
  time: 'valueTime',
  string: 'valueString',
  uri: 'valueUri',
  Coding: 'valueCoding',
  Quantity: 'valueQuantity',
  Reference: 'valueReference',
  Attachment: 'valueAttachment',
};

/**
 * The answer types each Questionnaire item type accepts. `choice`/`open-choice` also accept the
 * types of their answerOptions (see {@link allowedAnswerTypes}).
 * See: https://hl7.org/fhir/R4/valueset-item-type.html
 */
const ITEM_TYPE_ANSWERS: Readonly<Record<string, readonly ValueType[]>> = {
  boolean: ['boolean'],
  decimal: ['decimal'],
  integer: ['integer'],
  date: ['date'],
  dateTime: ['dateTime'],
  time: ['time'],
  string: ['string'],
  text: ['string'],
  url: ['uri'],
  choice: ['Coding'],
  'open-choice': ['Coding', 'string'],
  attachment: ['Attachment'],
  reference: ['Reference'],
  quantity: ['Quantity'],
};

/** True for item types that hold answers (everything but `group` and `display`). */
export function isQuestionType(type: string): boolean {
  return type !== 'group' && type !== 'display';
}

/**
 * The answer types an item accepts: the item type's own, plus for choice items the types used by
 * its answerOptions (R4 allows integer, date, time, string and Reference options).
 * Returns undefined for an unknown item type (nothing can be said about its answers).
 * @param itemType - Questionnaire.item.type.
 * @param optionTypes - the types of the item's answerOption values.
 */
export function allowedAnswerTypes(
  itemType: string,
  optionTypes: readonly ValueType[]
): ReadonlySet<ValueType> | undefined {
  const base = ITEM_TYPE_ANSWERS[itemType];
  if (!base) {
    return undefined;
  }
  const allowed = new Set<ValueType>(base);
  if (itemType === 'choice' || itemType === 'open-choice') {
    for (const t of optionTypes) {
      allowed.add(t);
    }
  }
  return allowed;
}

/**
 * Reads every `<prefix>X` property of an element (e.g. `valueBoolean`, `answerCoding`) whose suffix
 * is a known type, in property order.
 * @param element - an answer, an enableWhen, an answerOption, an initial or an extension.
 * @param prefix - `value` or `answer`.
 */
export function typedValuesOf(element: unknown, prefix: 'value' | 'answer'): TypedValue[] {
  if (!isObject(element)) {
    return [];
  }
  const result: TypedValue[] = [];
  for (const key of Object.keys(element)) {
    if (key.startsWith(prefix)) {
      const type = SUFFIX_TYPES.get(key.slice(prefix.length));
      if (type) {
        result.push({ type, value: element[key] });
      }
    }
  }
  return result;
}

/** Keys of an element that look like `value[x]` (known or not), for "more than one value" checks. */
export function valueKeysOf(element: Record<string, unknown>): string[] {
  return Object.keys(element).filter((k) => /^value[A-Z]/.test(k));
}

/** The single typed value of an element, or undefined when it has none or several. */
export function singleValueOf(element: unknown, prefix: 'value' | 'answer'): TypedValue | undefined {
  if (!isObject(element)) {
    return undefined;
  }
  // typedValuesOf's reading, without its list: the first match, undefined at a second one.
  let found: TypedValue | undefined;
  for (const key of Object.keys(element)) {
    if (key.startsWith(prefix)) {
      const type = SUFFIX_TYPES.get(key.slice(prefix.length));
      if (type) {
        if (found) {
          return undefined;
        }
        found = { type, value: element[key] };
      }
    }
  }
  return found;
}

const DATETIME_RE =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;
const TIME_RE = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?$/;
/** The R4 lexical forms (https://hl7.org/fhir/R4/datatypes.html#primitive); time needs seconds. */
const FHIR_DATE_RE = /^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$/;
const FHIR_DATETIME_RE =
  /^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00)))?)?)?$/;
const FHIR_TIME_RE = /^([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?$/;

/**
 * Whether a JSON value is a well-formed instance of its FHIR type (JS type and lexical form).
 * See: https://hl7.org/fhir/R4/datatypes.html
 * @param tv - the typed value.
 */
export function isWellFormed(tv: TypedValue): boolean {
  const v = tv.value;
  switch (tv.type) {
    case 'boolean':
      return typeof v === 'boolean';
    case 'decimal':
      return typeof v === 'number' && Number.isFinite(v);
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= 2147483647;
    case 'date':
      return typeof v === 'string' && FHIR_DATE_RE.test(v);
    case 'dateTime':
      return typeof v === 'string' && FHIR_DATETIME_RE.test(v);
    case 'time':
      return typeof v === 'string' && FHIR_TIME_RE.test(v);
    case 'string':
    case 'uri':
      return typeof v === 'string' && v.length > 0;
    case 'Coding':
      return (
        isObject(v) &&
        (v.code === undefined || typeof v.code === 'string') &&
        (v.system === undefined || typeof v.system === 'string') &&
        (v.code !== undefined || v.display !== undefined)
      );
    case 'Quantity':
      return (
        isObject(v) && (v.value === undefined || (typeof v.value === 'number' && Number.isFinite(v.value)))
      );
    case 'Reference':
    case 'Attachment':
      return isObject(v) && Object.keys(v).length > 0;
  }
}

/**
 * Date/time components as numbers, most significant first, with dateTimes moved to UTC when they
 * carry a time (a missing zone is read as UTC). Precision is the array length.
 */
function temporalParts(tv: TypedValue): number[] | undefined {
  if (typeof tv.value !== 'string') {
    return undefined;
  }
  if (tv.type === 'time') {
    const m = TIME_RE.exec(tv.value);
    if (!m) {
      return undefined;
    }
    return compact([m[1], m[2], m[3] === undefined ? undefined : `${m[3]}.${m[4] ?? '0'}`]);
  }
  if (tv.type !== 'date' && tv.type !== 'dateTime') {
    return undefined;
  }
  const m = DATETIME_RE.exec(tv.value);
  if (!m) {
    return undefined;
  }
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  if (h === undefined || mi === undefined) {
    return compact([y, mo, d]);
  }
  const seconds = s === undefined ? 0 : Number(`${s}.${frac ?? '0'}`);
  let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), 0) + seconds * 1000;
  if (zone && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    ms -= sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60000;
  }
  const t = new Date(ms);
  const parts = [t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate(), t.getUTCHours(), t.getUTCMinutes()];
  if (s !== undefined) {
    parts.push(t.getUTCSeconds() + t.getUTCMilliseconds() / 1000);
  }
  return parts;
}

function compact(parts: (string | undefined)[]): number[] {
  const result: number[] = [];
  for (const p of parts) {
    if (p === undefined) {
      break;
    }
    result.push(Number(p));
  }
  return result;
}

function comparePartial(a: number[], b: number[]): number | undefined {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i]! !== b[i]!) {
      return a[i]! < b[i]! ? -1 : 1;
    }
  }
  // Equal on the shared precision: equal only when both stop there; otherwise undecidable (FHIRPath).
  return a.length === b.length ? 0 : undefined;
}

const NUMERIC: ReadonlySet<ValueType> = new Set(['decimal', 'integer']);
const TEMPORAL_DATE: ReadonlySet<ValueType> = new Set(['date', 'dateTime']);
const TEXT: ReadonlySet<ValueType> = new Set(['string', 'uri']);

/**
 * Orders two values: negative, zero or positive; undefined when they cannot be compared (different
 * types, different date precision with an equal shared part, different units, codings, ...).
 * Integer and decimal compare as numbers; date and dateTime compare component-wise (FHIRPath rules).
 * See: https://hl7.org/fhirpath/N1/#comparison
 * @param a - left value.
 * @param b - right value.
 */
export function compareValues(a: TypedValue, b: TypedValue): number | undefined {
  if (NUMERIC.has(a.type) && NUMERIC.has(b.type)) {
    return typeof a.value === 'number' && typeof b.value === 'number'
      ? Math.sign(a.value - b.value)
      : undefined;
  }
  if ((TEMPORAL_DATE.has(a.type) && TEMPORAL_DATE.has(b.type)) || (a.type === 'time' && b.type === 'time')) {
    const pa = temporalParts(a);
    const pb = temporalParts(b);
    return pa && pb ? comparePartial(pa, pb) : undefined;
  }
  if (TEXT.has(a.type) && TEXT.has(b.type)) {
    if (typeof a.value !== 'string' || typeof b.value !== 'string') {
      return undefined;
    }
    return a.value === b.value ? 0 : a.value < b.value ? -1 : 1;
  }
  if (a.type === 'Quantity' && b.type === 'Quantity' && isObject(a.value) && isObject(b.value)) {
    const unitA = a.value.code ?? a.value.unit;
    const unitB = b.value.code ?? b.value.unit;
    if (unitA !== unitB || (a.value.system ?? b.value.system) !== (b.value.system ?? a.value.system)) {
      return undefined;
    }
    const va = a.value.value;
    const vb = b.value.value;
    return typeof va === 'number' && typeof vb === 'number' ? Math.sign(va - vb) : undefined;
  }
  return undefined;
}

/**
 * Whether two values are equal. Codings match on code, and on system when the expected coding
 * names one; References match on `reference`; booleans on value; the rest through
 * {@link compareValues}.
 * @param actual - the answer.
 * @param expected - the enableWhen answer, answerOption or initial value.
 */
export function valuesEqual(actual: TypedValue, expected: TypedValue): boolean {
  if (actual.type === 'boolean' || expected.type === 'boolean') {
    return actual.type === expected.type && actual.value === expected.value;
  }
  if (actual.type === 'Coding' || expected.type === 'Coding') {
    return actual.type === expected.type && codingMatches(actual.value, expected.value);
  }
  if (actual.type === 'Reference' || expected.type === 'Reference') {
    return (
      actual.type === expected.type &&
      isObject(actual.value) &&
      isObject(expected.value) &&
      typeof expected.value.reference === 'string' &&
      actual.value.reference === expected.value.reference
    );
  }
  if (actual.type === 'Attachment' || expected.type === 'Attachment') {
    return false;
  }
  if (actual.type === 'Quantity' && expected.type === 'Quantity') {
    return compareValues(actual, expected) === 0;
  }
  return compareValues(actual, expected) === 0;
}

/**
 * Coding match: same code, and the same system when the expected coding has one.
 * @param actual - the answer's Coding.
 * @param expected - the Coding it should match.
 */
export function codingMatches(actual: unknown, expected: unknown): boolean {
  if (!isObject(actual) || !isObject(expected) || typeof expected.code !== 'string') {
    return false;
  }
  if (actual.code !== expected.code) {
    return false;
  }
  return expected.system === undefined || actual.system === expected.system;
}

/** Number of digits after the decimal point of a JSON number (handles exponent notation). */
export function decimalPlaces(n: number): number {
  if (!Number.isFinite(n)) {
    return 0;
  }
  const [mantissa, exponent] = String(n).toLowerCase().split('e');
  const fraction = mantissa!.split('.')[1]?.length ?? 0;
  return Math.max(0, fraction - Number(exponent ?? 0));
}

/** An array as-is, anything else as an empty array (defensive reading of JSON). */
export function arrayOf(v: unknown): readonly unknown[] {
  return Array.isArray(v) ? v : [];
}

/**
 * Deep copy of JSON-shaped data (plain objects, arrays, primitives). Non-enumerable properties
 * (e.g. fhirpath.js's hidden `__path__`) are not copied.
 * @param value - the value to copy.
 */
export function cloneJson<T>(value: T): T {
  return value !== null && typeof value === 'object' ? (cloneObject(value) as T) : value;
}

// The recursion runs only for objects and arrays; `for…in` with an own-property test visits the keys
// of Object.keys, in its order, without building the array. Keys are assigned (not defined), as
// before: the copy of a `__proto__` key is the same as it always was.
function cloneObject(value: object): unknown {
  if (Array.isArray(value)) {
    // map, as before: it keeps an array's holes.
    return value.map(cloneJson);
  }
  const out: Record<string, unknown> = {};
  for (const key in value) {
    if (hasOwnKey.call(value, key)) {
      const child = (value as Record<string, unknown>)[key];
      out[key] = child !== null && typeof child === 'object' ? cloneObject(child) : child;
    }
  }
  return out;
}

const hasOwnKey = Object.prototype.hasOwnProperty;

/** Structural equality of JSON-shaped data (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) {
    return true;
  }
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return (
      ka.length === kb.length &&
      ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && jsonEqual(a[k], b[k]))
    );
  }
  return false;
}
