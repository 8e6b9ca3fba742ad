/**
 * Content identity of plain JSON values, without serialising them: a cheap fingerprint to find
 * candidates, an exact comparison to confirm one, and a private copy to keep. Used to intern the
 * definitions callers send (given-content.ts): a 400 KB Questionnaire costs one walk to fingerprint
 * and one to compare, instead of building and hashing its 400 KB JSON text per request.
 *
 * "Plain JSON" is what JSON.parse returns: objects with an ordinary prototype, dense arrays,
 * strings, booleans, null and finite numbers. Anything else (undefined, functions, Dates, NaN, cycles,
 * nesting deeper than {@link MAX_DEPTH}) has no fingerprint, so it is never taken for other content.
 */

/** Deeper than this is not interned (JSON.parse output of real definitions is a few dozen deep). */
export const MAX_DEPTH = 512;

const NOT_PLAIN = Symbol('not plain JSON');

/**
 * A 32-bit fingerprint of a plain JSON value: its structure, keys in order, every number and boolean,
 * and each string's length with three of its characters. Equal content gives equal fingerprints;
 * different content usually, not always, gives different ones, so a match must be confirmed with
 * {@link sameContent}. Undefined when the value is not plain JSON.
 * @param value - Anything.
 */
export function contentFingerprint(value: unknown): number | undefined {
  try {
    return mix(value, 0x811c9dc5, 0) >>> 0;
  } catch (err) {
    if (err === NOT_PLAIN) {
      return undefined;
    }
    throw err;
  }
}

// FNV-1a style mixing of one 32-bit word.
function step(h: number, word: number): number {
  return Math.imul(h ^ word, 0x01000193);
}

function mixString(h: number, s: string): number {
  const n = s.length;
  h = step(h, n);
  return n === 0 ? h : step(h, s.charCodeAt(0) ^ (s.charCodeAt(n >> 1) << 8) ^ (s.charCodeAt(n - 1) << 16));
}

function mix(value: unknown, h: number, depth: number): number {
  switch (typeof value) {
    case 'string':
      return mixString(step(h, 1), value);
    case 'boolean':
      return step(h, value ? 2 : 3);
    case 'number':
      if (!Number.isFinite(value)) {
        throw NOT_PLAIN;
      }
      return step(step(step(h, 4), value | 0), Math.round((value % 1) * 1e9));
    case 'object': {
      if (value === null) {
        return step(h, 5);
      }
      if (depth >= MAX_DEPTH) {
        throw NOT_PLAIN;
      }
      if (Array.isArray(value)) {
        h = step(step(h, 6), value.length);
        for (let i = 0; i < value.length; i++) {
          if (!(i in value)) {
            throw NOT_PLAIN; // A hole: JSON would say null.
          }
          h = mix(value[i], h, depth + 1);
        }
        return h;
      }
      if (!isPlainObject(value)) {
        throw NOT_PLAIN;
      }
      h = step(h, 7);
      const record = value as Record<string, unknown>;
      // for…in is the fastest walk of a plain object; it would add inherited keys only if someone
      // made Object.prototype's own enumerable, and a fingerprint may differ from the content's.
      for (const key in record) {
        h = mix(record[key], mixString(h, key), depth + 1);
      }
      return step(h, 8);
    }
    default:
      throw NOT_PLAIN; // undefined, a function, a symbol, a bigint.
  }
}

/**
 * An object whose prototype is an Object.prototype (of any realm: a test runner's or a vm's): not a
 * Date, a Map or a class instance, which are not what a JSON body parses to.
 */
function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as object | null;
  return proto !== null && Object.getPrototypeOf(proto) === null;
}

/**
 * True when two plain JSON values are the same content: the same keys in the same order (key order
 * shows in what the engine copies out of a definition) and equal values (`Object.is` for numbers, so
 * 0 and -0 differ). Stops at the first difference. Only `a` need be known to be plain JSON: whatever
 * `b` holds (undefined, NaN, Dates, cycles, any depth), true means it is JSON content equal to `a`,
 * and the walk ends within `a`'s depth.
 * @param a - Plain JSON (one with a fingerprint), the remembered one.
 * @param b - Anything, the one given now.
 */
export function sameContent(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) {
    return Object.is(a, b);
  }
  if (a === b) {
    return true;
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) {
      return false;
    }
    for (let i = 0; i < a.length; i++) {
      if (!sameContent(a[i], b[i])) {
        return false;
      }
    }
    return true;
  }
  if (Array.isArray(b) || !isPlainObject(b)) {
    return false; // A Date or a Map given where the content has an object: JSON would not agree.
  }
  // `a`'s keys by for…in (faster than Object.keys), `b`'s own keys by Object.keys: an inherited
  // enumerable key (a polluted Object.prototype) can only make them differ, never look equal.
  const kb = Object.keys(b);
  let i = 0;
  for (const key in a) {
    if (key !== kb[i++]) {
      return false;
    }
    if (!sameContent((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) {
      return false;
    }
  }
  return i === kb.length;
}

/**
 * A plain JSON value held for comparison ({@link contentSnapshot}): leaves as themselves, arrays and
 * objects as nodes, each object's keys in one array, read once. Comparing a given value with it walks
 * the given value only, and allocates nothing (sameContent reads both values and lists the given
 * object's keys per object).
 */
export type ContentSnapshot = string | number | boolean | null | ArraySnapshot | ObjectSnapshot;

class ArraySnapshot {
  constructor(readonly items: readonly ContentSnapshot[]) {}
}

class ObjectSnapshot {
  constructor(
    readonly keys: readonly string[],
    readonly values: readonly ContentSnapshot[]
  ) {}
}

/**
 * A snapshot of a plain JSON value (one with a {@link contentFingerprint}), to compare given values
 * with by {@link matchesSnapshot}; later changes to the value do not change it.
 * @param value - Plain JSON.
 */
export function contentSnapshot(value: unknown): ContentSnapshot {
  if (typeof value !== 'object' || value === null) {
    return value as ContentSnapshot;
  }
  if (Array.isArray(value)) {
    return new ArraySnapshot(value.map(contentSnapshot));
  }
  const keys = Object.keys(value);
  return new ObjectSnapshot(
    keys,
    keys.map((key) => contentSnapshot((value as Record<string, unknown>)[key]))
  );
}

/**
 * True exactly when {@link sameContent}(the snapshot's value, `given`) is: the same keys in the same
 * order, equal leaves (0 and -0 apart), whatever `given` holds (the walk ends within the snapshot's
 * depth).
 *
 * A given object's keys are read by for…in, without a list per object, where that is the same as its
 * own keys: its prototype is this realm's Object.prototype and Object.prototype has no enumerable
 * key (checked before and after the walk). Otherwise (another realm's object, a polluted
 * Object.prototype) by Object.keys, as sameContent reads them.
 * @param snapshot - From {@link contentSnapshot}.
 * @param given - Anything.
 */
export function matchesSnapshot(snapshot: ContentSnapshot, given: unknown): boolean {
  const forIn = prototypeClean();
  return matches(snapshot, given, forIn) && (!forIn || prototypeClean());
}

/** Object.prototype has no enumerable key (someone may have polluted it); it has no prototype itself. */
function prototypeClean(): boolean {
  return Object.keys(Object.prototype).length === 0;
}

function matches(s: ContentSnapshot, b: unknown, forIn: boolean): boolean {
  if (typeof s !== 'object' || s === null) {
    return s === b && (s !== 0 || Object.is(s, b));
  }
  return typeof b === 'object' && b !== null && matchesNode(s, b, forIn);
}

/**
 * One array or object of the snapshot against a given object. Each child is compared in the loop:
 * equal leaves (the most common case) by `===` alone, without a call.
 */
function matchesNode(s: ArraySnapshot | ObjectSnapshot, b: object, forIn: boolean): boolean {
  if (s instanceof ArraySnapshot) {
    const items = s.items;
    if (!Array.isArray(b) || items.length !== b.length) {
      return false;
    }
    for (let i = 0; i < items.length; i++) {
      if (!sameChild(items[i]!, b[i], forIn)) {
        return false;
      }
    }
    return true;
  }
  if (Array.isArray(b)) {
    return false;
  }
  const { keys, values } = s;
  const record = b as Record<string, unknown>;
  let i = 0;
  if (forIn && Object.getPrototypeOf(b) === Object.prototype) {
    for (const key in record) {
      if (key !== keys[i] || !sameChild(values[i]!, record[key], forIn)) {
        return false;
      }
      i++;
    }
    return i === keys.length;
  }
  if (!isPlainObject(b)) {
    return false; // A Date or a Map given where the content has an object: JSON would not agree.
  }
  const own = Object.keys(b);
  if (own.length !== keys.length) {
    return false;
  }
  for (; i < own.length; i++) {
    if (own[i] !== keys[i] || !sameChild(values[i]!, record[own[i]!], forIn)) {
      return false;
    }
  }
  return true;
}

/** {@link matches} with the equal-leaf case first: small enough for V8 to inline into the loops. */
function sameChild(s: ContentSnapshot, b: unknown, forIn: boolean): boolean {
  if (s === b) {
    return s !== 0 || Object.is(s, b);
  }
  return (
    typeof s === 'object' && s !== null && typeof b === 'object' && b !== null && matchesNode(s, b, forIn)
  );
}
