/**
 * True for a JSON object: non-null and not an array. The one shared guard for reading untrusted JSON.
 * @param value - Anything.
 */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True when both lists hold the same items (`===`) in the same order. */
export function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a.length !== b.length) {
    return false;
  }
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      return false;
    }
  }
  return true;
}

/**
 * A deep copy of JSON-shaped data (objects, arrays, primitives): what `structuredClone` gives for
 * such data, several times faster (structuredClone goes through the serializer). Only own
 * enumerable properties are copied, like structuredClone; shared sub-objects are copied apart. A
 * `__proto__` key (JSON.parse makes it an own property) stays an own property of the copy instead of
 * replacing its prototype. Cyclic data is not JSON: it overflows the stack.
 * @param value - The value to copy.
 */
export function copyJson<T>(value: T): T {
  return typeof value === 'object' && value !== null ? (copyNode(value) as T) : value;
}

const hasOwn = Object.prototype.hasOwnProperty;

// Children are tested before the call, so the recursion runs only for objects and arrays; `for…in`
// with an own-property test visits the keys of Object.keys, in its order, without building the array.
function copyNode(value: object): unknown {
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
      const child: unknown = value[i];
      out.push(typeof child === 'object' && child !== null ? copyNode(child) : child);
    }
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const key in value) {
    if (!hasOwn.call(value, key)) {
      continue;
    }
    const child = (value as Record<string, unknown>)[key];
    const copied = typeof child === 'object' && child !== null ? copyNode(child) : child;
    if (key === '__proto__') {
      Object.defineProperty(out, key, {
        value: copied,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      out[key] = copied;
    }
  }
  return out;
}
