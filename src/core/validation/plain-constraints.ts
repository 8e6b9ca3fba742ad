/**
 * Plain-code answers for the constraints that output resources meet many times per response (ext-1
 * on each extension, qrs-1 on each response item, dom-2/4/5 on each resource, rqg-1 on each
 * RequestGroup action, con-2 on each Condition evidence, obs-6/7, tim-*, …), which Medplum's
 * FHIRPath engine would otherwise interpret each time.
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
  // The next ones are those Medplum's engine still evaluated most often on the shipped outputs
  // (counted per evaluation); each answers from the side of its `or` / `implies` that is plain.
  ['con-2\u0000code.exists() or detail.exists()', (v) => anyPresent(v, 'code', 'detail')],
  ['obs-3\u0000low.exists() or high.exists() or text.exists()', (v) => anyPresent(v, 'low', 'high', 'text')],
  [
    'obs-6\u0000dataAbsentReason.empty() or value.empty()',
    (v) => when(plainRecord(v), (r) => r.dataAbsentReason === undefined || lacksChoice(r, 'value')),
  ],
  [
    'obs-7\u0000value.empty() or component.code.where(coding.intersect(%resource.code.coding).exists()).empty()',
    (v) => when(plainRecord(v), (r) => lacksChoice(r, 'value') || r.component === undefined),
  ],
  ['prr-1\u0000orderDetail.empty() or code.exists()', (v) => emptyOr(v, 'orderDetail', 'code')],
  ['tim-1\u0000duration.empty() or durationUnit.exists()', (v) => emptyOr(v, 'duration', 'durationUnit')],
  ['tim-2\u0000period.empty() or periodUnit.exists()', (v) => emptyOr(v, 'period', 'periodUnit')],
  ['tim-4\u0000duration.exists() implies duration >= 0', (v) => absentOrNonNegative(v, 'duration')],
  ['tim-5\u0000period.exists() implies period >= 0', (v) => absentOrNonNegative(v, 'period')],
  ['tim-6\u0000periodMax.empty() or period.exists()', (v) => emptyOr(v, 'periodMax', 'period')],
  ['tim-7\u0000durationMax.empty() or duration.exists()', (v) => emptyOr(v, 'durationMax', 'duration')],
  ['tim-8\u0000countMax.empty() or count.exists()', (v) => emptyOr(v, 'countMax', 'count')],
  [
    "tim-9\u0000offset.empty() or (when.exists() and when.select($this in ('C' | 'CM' | 'CD' | 'CV')).allFalse())",
    (v) => when(plainRecord(v), (r) => r.offset === undefined),
  ],
  [
    'tim-10\u0000timeOfDay.empty() or when.empty()',
    (v) => when(plainRecord(v), (r) => r.timeOfDay === undefined || r.when === undefined),
  ],
  [
    "con-4\u0000abatement.empty() or clinicalStatus.coding.where(system='http://terminology.hl7.org/CodeSystem/condition-clinical' and (code='resolved' or code='remission' or code='inactive')).exists()",
    (v) => when(plainRecord(v), (r) => lacksChoice(r, 'abatement')),
  ],
  [
    "con-5\u0000verificationStatus.coding.where(system='http://terminology.hl7.org/CodeSystem/condition-ver-status' and code='entered-in-error').empty() or clinicalStatus.empty()",
    (v) =>
      when(
        plainRecord(v),
        (r) => r.clinicalStatus === undefined || noCodeIn(r.verificationStatus, 'entered-in-error')
      ),
  ],
  [
    'cpl-3\u0000detail.empty() or reference.empty()',
    (v) => when(plainRecord(v), (r) => r.detail === undefined || r.reference === undefined),
  ],
  [
    'inv-1\u0000lastModified.exists().not() or authoredOn.exists().not() or lastModified >= authoredOn',
    (v) => when(plainRecord(v), (r) => r.lastModified === undefined || r.authoredOn === undefined),
  ],
  // This module's own profiles (re-condition, re-careplan).
  ['re-con-1\u0000evidence.all(detail.exists())', (v) => allHave(v, 'evidence', 'detail')],
  ['re-cpl-1\u0000activity.all(reference.exists())', (v) => allHave(v, 'activity', 'reference')],
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

/** `true` when the record is plain and the test holds; else undefined (the caller asks Medplum). */
function when(
  record: Record<string, unknown> | undefined,
  test: (r: Record<string, unknown>) => boolean
): true | undefined {
  return record !== undefined && test(record) ? true : undefined;
}

/** `a.exists() or b.exists() or …`: one of them certainly exists. */
function anyPresent(value: unknown, ...names: string[]): true | undefined {
  return when(plainRecord(value), (r) => names.some((n) => exists(r[n]) === true));
}

/** `a.empty() or b.exists()`. */
function emptyOr(value: unknown, empty: string, exist: string): true | undefined {
  return when(plainRecord(value), (r) => r[empty] === undefined || exists(r[exist]) === true);
}

/** `x.exists() implies x >= 0`: absent, or one finite number that is not negative. */
function absentOrNonNegative(value: unknown, name: string): true | undefined {
  return when(plainRecord(value), (r) => {
    const x = r[name];
    return x === undefined || (typeof x === 'number' && Number.isFinite(x) && x >= 0);
  });
}

/** `list.all(name.exists())`: the list is absent, or each of its items is plain and has `name`. */
function allHave(value: unknown, list: string, name: string): true | undefined {
  return when(plainRecord(value), (r) => {
    const items = r[list];
    if (items === undefined) {
      return true;
    }
    return (
      Array.isArray(items) &&
      items.every((item) => {
        const record = plainRecord(item);
        return record !== undefined && exists(record[name]) === true;
      })
    );
  });
}

/** No key of a choice element `name[x]` (nor `name` itself): `name.empty()` is certain. */
function lacksChoice(record: Record<string, unknown>, name: string): boolean {
  for (const key in record) {
    if (key.startsWith(name)) {
      return false;
    }
  }
  return true;
}

/**
 * `concept.coding.where(… and code = c).empty()` is certain: the concept is absent, or plain with
 * no coding, or with plain codings none of whose `code` is the string c.
 */
function noCodeIn(concept: unknown, code: string): boolean {
  if (concept === undefined) {
    return true;
  }
  const record = plainRecord(concept);
  if (!record) {
    return false;
  }
  const codings = record.coding;
  if (codings === undefined) {
    return true;
  }
  return (
    Array.isArray(codings) &&
    codings.every((c) => {
      const coding = plainRecord(c);
      return (
        coding !== undefined &&
        (coding.code === undefined || (typeof coding.code === 'string' && coding.code !== code))
      );
    })
  );
}

/** `exists()` of a property of any type: objects as {@link present}, a non-blank string, a number, a boolean. */
function exists(value: unknown): boolean | undefined {
  if (typeof value === 'string') {
    return value.trim() !== '' ? true : undefined;
  }
  if (typeof value === 'number') {
    return Number.isFinite(value) ? true : undefined;
  }
  if (typeof value === 'boolean') {
    return true;
  }
  return present(value);
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

/** An object (not an array) with an own enumerable key, found without Object.keys's array. */
function isNonEmptyObject(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return false;
  }
  for (const key in value) {
    if (Object.hasOwn(value, key)) {
      return true;
    }
  }
  return false;
}
