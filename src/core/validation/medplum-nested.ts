import type { TypedValue } from '@medplum/core';
import { isEmpty as medplumIsEmpty, tryGetDataType as medplumTryGetDataType } from '@medplum/core';

// Bound once: a call through the package's export getters costs more than these calls themselves.
const isEmpty = medplumIsEmpty;
const tryGetDataType = medplumTryGetDataType;

type TypedValueWithPath = TypedValue & { path: string };

/** What Medplum's `getNestedProperty` returns: per parent value, one value or an array. */
export type NestedValues = (TypedValue | TypedValue[] | undefined)[];

/**
 * Medplum 4.5.2's `getNestedProperty(value, key, { withPath })` for the keys the Medplum tier asks
 * about (a profile element below a child, `code.coding`; a slice discriminator's path, `url`),
 * or `undefined` when the answer is not certain this way and the caller must ask Medplum.
 *
 * Medplum splits the key at each call and reads each step through `getTypedPropertyValue`, which
 * looks the element up by name, tries each of its types' keys, merges primitive extensions (`_x`)
 * and copies every value with its path. This reads each step directly, for the case that is one
 * plain element: the step names an element of the parent type's schema (as Medplum's map holds it
 * now) under exactly that key, not a choice (`[x]`), not typed `Resource`, and the parent has no
 * `_step` key. Anything else (no such element, a choice, a primitive extension, `$this`) is left to
 * Medplum. The values, types, paths and grouping are Medplum's: `medplum-nested.test.ts` compares
 * the two on generated values.
 * @param value - The parent, typed as Medplum types it (and with its path when `withPath`).
 * @param steps - The key split at `.`.
 * @param withPath - Medplum's `withPath` option.
 */
export function nestedProperty(
  value: TypedValue,
  steps: readonly string[],
  withPath: boolean
): NestedValues | undefined {
  if (steps[0] === '$this' && steps.length === 1) {
    return undefined;
  }
  const first = step(value, steps[0]!, withPath);
  if (first === null) {
    return undefined;
  }
  let values: NestedValues = [first];
  for (let s = 1; s < steps.length; s++) {
    const next: NestedValues = [];
    const key = steps[s]!;
    for (const current of values) {
      if (Array.isArray(current)) {
        for (const element of current) {
          const read = step(element, key, withPath);
          if (read === null) {
            return undefined;
          }
          next.push(read);
        }
      } else if (withPath ? current?.value !== undefined : current !== undefined) {
        const read = step(current!, key, withPath);
        if (read === null) {
          return undefined;
        }
        next.push(read);
      }
    }
    values = next;
  }
  return values;
}

/**
 * One step: Medplum's `getTypedPropertyValue` (with its path when `withPath`, as
 * `getTypedPropertyValueWithPath` gives it), or null when this reading is not certain to be it.
 */
function step(
  input: TypedValue,
  key: string,
  withPath: boolean
): TypedValue | TypedValue[] | undefined | null {
  const raw = input.value as Record<string, unknown> | undefined;
  let found: TypedValue | TypedValue[] | undefined;
  if (raw) {
    const elements = tryGetDataType(input.type)?.elements;
    const element = elements && Object.hasOwn(elements, key) ? elements[key] : undefined;
    const types = element?.type;
    if (
      !element ||
      !types ||
      types.length === 0 ||
      key.includes('[x]') ||
      !lastStepIs(element.path, key) ||
      typeof raw !== 'object' ||
      Array.isArray(raw) ||
      raw[extensionKey(key)] !== undefined
    ) {
      return null; // Choices, primitive extensions, no element: Medplum's own reading.
    }
    const read = raw[key];
    let type = types[0]!.code;
    if (type === 'Element' || type === 'BackboneElement') {
      type = element.type[0]!.code;
    }
    if (type === 'Resource') {
      return null;
    }
    if (read !== undefined && !isEmpty(read)) {
      found = Array.isArray(read) ? read.map((v: unknown) => ({ type, value: v })) : { type, value: read };
    }
  }
  if (!withPath) {
    return found;
  }
  const parentPath = (input as TypedValueWithPath).path;
  const prefix = parentPath ? `${parentPath}.${key}` : key;
  if (found === undefined) {
    return { type: 'undefined', value: undefined, path: prefix } as TypedValueWithPath;
  }
  if (Array.isArray(found)) {
    for (let i = 0; i < found.length; i++) {
      (found[i] as TypedValueWithPath).path = `${prefix}[${i}]`;
    }
    return found;
  }
  (found as TypedValueWithPath).path = prefix;
  return found;
}

/** `path.slice(path.lastIndexOf('.') + 1) === key`, without the copy. */
function lastStepIs(path: string, key: string): boolean {
  const start = path.lastIndexOf('.') + 1;
  return path.length - start === key.length && path.startsWith(key, start);
}

/**
 * `_` and the key (a primitive's extension key), kept per key: a key built per read is looked up by
 * its text each time. Bounded: keys come from profiles, possibly a caller's.
 */
function extensionKey(key: string): string {
  let underscored = extensionKeys.get(key);
  if (underscored === undefined) {
    underscored = '_' + key;
    if (extensionKeys.size < 256) {
      extensionKeys.set(key, underscored);
    }
  }
  return underscored;
}

const extensionKeys = new Map<string, string>();
