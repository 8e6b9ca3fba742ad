/**
 * Plain-code answers for the R4 constraints that every output resource meets hundreds of times per
 * response (ext-1 on each extension, qrs-1 on each response item, dom-2/4/5 on each resource, rqg-1
 * on each RequestGroup action), which Medplum's FHIRPath engine would otherwise interpret each time.
 *
 * Each answers only `true` ("the constraint holds") and only when that is certain from the JSON;
 * anything else (a failure, a primitive extension `_x`, an empty or odd value) is `undefined`, and the
 * caller evaluates the expression with Medplum as before. So a plain answer can never hide a finding:
 * at worst it declines. Keyed by key and exact expression text, so a profile that redefines a key
 * with another expression is evaluated as written.
 */
type PlainCheck = (value: unknown) => true | undefined;

export const PLAIN_CONSTRAINTS: ReadonlyMap<string, PlainCheck> = new Map<string, PlainCheck>([
  [
    'ext-1\u0000extension.exists() != value.exists()',
    (v) => {
      const record = plainRecord(v);
      const hasExtension = record && present(record.extension);
      const hasValue = record && valuePresent(record);
      return hasExtension !== undefined && hasValue !== undefined && hasExtension !== hasValue
        ? true
        : undefined;
    },
  ],
  [
    'qrs-1\u0000(answer.exists() and item.exists()).not()',
    (v) => {
      const record = plainRecord(v);
      if (!record) {
        return undefined;
      }
      const answer = present(record.answer);
      const item = present(record.item);
      return answer === false || item === false ? true : undefined;
    },
  ],
  [
    'rqg-1\u0000resource.exists() != action.exists()',
    (v) => {
      const record = plainRecord(v);
      const resource = record && present(record.resource);
      const action = record && present(record.action);
      return resource !== undefined && action !== undefined && resource !== action ? true : undefined;
    },
  ],
  ['dom-2\u0000contained.contained.empty()', (v) => everyContained(v, (c) => c.contained === undefined)],
  [
    'dom-4\u0000contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()',
    (v) => everyContained(v, (c) => metaLacks(c, 'versionId') && metaLacks(c, 'lastUpdated')),
  ],
  ['dom-5\u0000contained.meta.security.empty()', (v) => everyContained(v, (c) => metaLacks(c, 'security'))],
]);

/** The plain check for a constraint, if there is one. */
export function plainConstraint(key: string, expression: string): PlainCheck | undefined {
  return PLAIN_CONSTRAINTS.get(`${key}\u0000${expression}`);
}

/** The object, when it is one with no primitive extensions (`_x`), which these checks do not model. */
function plainRecord(value: unknown): Record<string, unknown> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return undefined;
  }
  for (const key in value) {
    if (key.startsWith('_')) {
      return undefined;
    }
  }
  return value as Record<string, unknown>;
}

/** `exists()` of a property: false when absent, true for a non-empty array of objects or one object; else unknown. */
function present(value: unknown): boolean | undefined {
  if (value === undefined) {
    return false;
  }
  if (Array.isArray(value)) {
    return value.length > 0 && value.every(isNonEmptyObject) ? true : undefined;
  }
  return isNonEmptyObject(value) ? true : undefined;
}

/** `value.exists()` of an Extension: a single `value[x]` that is a non-empty string, a number, a boolean or an object. */
function valuePresent(record: Record<string, unknown>): boolean | undefined {
  let found: boolean | undefined = false;
  for (const key in record) {
    if (key.length > 5 && key.startsWith('value') && key[5]! >= 'A' && key[5]! <= 'Z') {
      const v = record[key];
      const ok: boolean =
        found === false &&
        ((typeof v === 'string' && v.trim() !== '') ||
          (typeof v === 'number' && Number.isFinite(v)) ||
          typeof v === 'boolean' ||
          isNonEmptyObject(v));
      found = ok ? true : undefined;
      if (found === undefined) {
        return undefined;
      }
    }
  }
  return found;
}

function everyContained(value: unknown, test: (c: Record<string, unknown>) => boolean): true | undefined {
  const record = plainRecord(value);
  if (!record) {
    return undefined;
  }
  const contained = record.contained;
  if (contained === undefined) {
    return true;
  }
  if (!Array.isArray(contained)) {
    return undefined;
  }
  for (const c of contained) {
    const item = plainRecord(c);
    if (!item || !test(item)) {
      return undefined;
    }
  }
  return true;
}

function metaLacks(resource: Record<string, unknown>, name: string): boolean {
  const meta = resource.meta;
  if (meta === undefined) {
    return true;
  }
  const record = plainRecord(meta);
  return record !== undefined && record[name] === undefined;
}

function isNonEmptyObject(value: unknown): boolean {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length > 0
  );
}
