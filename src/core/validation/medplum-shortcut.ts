import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { InternalSchemaElement, InternalTypeSchema, TypedValue } from '@medplum/core';
import {
  arrayify as medplumArrayify,
  createOperationOutcomeIssue as medplumCreateIssue,
  deepEquals as medplumDeepEquals,
  deepIncludes as medplumDeepIncludes,
  getDataType as medplumGetDataType,
  getNestedProperty as medplumGetNestedProperty,
  isPrimitiveType as medplumIsPrimitiveType,
  isResource as medplumIsResource,
  matchDiscriminant as medplumMatchDiscriminant,
  toTypedValue,
  UCUM,
} from '@medplum/core';
import type { ConstraintPlan, KeyPlan, NestedPlan, SchemaPlan } from './medplum-plan';
import { atomOfPlan, keyPlanAt, planOf } from './medplum-plan';
import type { NestedValues } from './medplum-nested';
import { nestedProperty } from './medplum-nested';
import { primitivePlan } from './medplum-primitives';

// Bound once: a call through the package's export getters costs more than these calls themselves.
const isResource = medplumIsResource;
const getDataType = medplumGetDataType;
const arrayify = medplumArrayify;
const createOperationOutcomeIssue = medplumCreateIssue;
const deepEquals = medplumDeepEquals;
const deepIncludes = medplumDeepIncludes;
const getNestedProperty = medplumGetNestedProperty;
const isPrimitiveType = medplumIsPrimitiveType;
const matchDiscriminant = medplumMatchDiscriminant;

/**
 * The issues Medplum's validator (`validateResource`, `validateTypedValue`) reports for a value,
 * computed quickly when that is certain, or `undefined` when the caller must run Medplum itself.
 *
 * Medplum's validator crawls every element of every type's schema for every object, present or not,
 * resolving each choice element by trying each of its types: most of its time goes to elements that
 * are absent. This walk reads the same schemas in the same order but visits only the elements an
 * object has, through a plan derived once per schema (`medplum-plan.ts`): per object it is a loop
 * over the object's keys with table look-ups, and each key's values go through a check specialised
 * to its element once (`compileCheck`: a primitive is one type test, a single complex value is
 * checked and entered directly). It makes every check Medplum makes: required elements,
 * cardinality, array-ness, fixed and pattern values, slice counts, every error-severity constraint
 * (evaluated by Medplum's own FHIRPath engine with the variables Medplum binds), reference target
 * types, primitive JSON types and formats, unknown, null, empty and conflicting properties. The only
 * issue it reproduces is the warning about a reference to a resource type the element does not list
 * (output resources carry `urn:uuid:` references, which Medplum reads as such a type); on any other
 * finding, or anything it does not model (primitive extensions `_x`, a key that could be read as two
 * elements, a resource type not yet indexed), it gives up and Medplum produces the exact issues.
 *
 * Property tests check that wherever this returns issues they equal Medplum's, on generated resources
 * and on every golden output (which must all take this path). Facts about Medplum 4.5.2 it relies on
 * (read from its source): the constraint keys it skips, the variables it binds for constraints, how it
 * types property values, the order in which it reports, and the text of the reference warning.
 * @param root - The value as Medplum's validator receives it (`toTypedValue(resource)` for base
 *   validation, `{ type: profileKey, value: resource }` for a registered profile schema).
 * @param schema - The schema Medplum would validate the root against.
 * @param isIndexed - True when a resource type's definitions are loaded (until they are, Medplum
 *   would see a partial schema).
 * @param sharing - For a base pass and a profile pass of the same resource in one synchronous call:
 *   the base pass records its crawls of the root's children (`record`), the profile pass reuses them
 *   (`reuse`). See {@link SharedCrawls}.
 */
export function medplumIssues(
  root: TypedValue,
  schema: InternalTypeSchema,
  isIndexed: (resourceType: string) => boolean,
  sharing?: { readonly crawls: SharedCrawls; readonly role: 'record' | 'reuse' }
): OperationOutcomeIssue[] | undefined {
  const value = root.value as unknown;
  if (!isResource(value) || typeof value.resourceType !== 'string' || !isIndexed(value.resourceType)) {
    return undefined;
  }
  const crawls = sharing?.crawls;
  const walk = new Walk(root, schema.path, isIndexed);
  if (crawls && sharing.role === 'record') {
    crawls.byValue.clear();
    crawls.rootPath = undefined;
    walk.recording = crawls.byValue;
  } else if (crawls && crawls.rootPath === schema.path && crawls.root === value) {
    walk.reusing = crawls.byValue;
  }
  try {
    const plan = planOf(schema);
    const record = value as unknown as Record<string, unknown>;
    const result =
      walk.constraintsHold(root.type, record, plan.constraints) && walk.objectIsClean(record, root.type, plan)
        ? walk.warnings
        : undefined;
    if (walk.recording && result) {
      // Complete: every child of the root was crawled, so a value met twice is marked as such.
      crawls!.rootPath = schema.path;
      crawls!.root = value;
    }
    return result;
  } catch {
    // Medplum would throw too (an unknown type, a failing helper): let it report that itself.
    return undefined;
  }
}

/**
 * The base pass's crawls of the root's children, for the profile pass of the same resource.
 *
 * A profile schema keeps the base element types (`withBaseTypes` in medplum.ts), so below the root
 * both passes crawl each child value with the same base schema, at the same path, with the same
 * variables except `%rootResource` (typed by the profile key in the profile pass). A child crawl
 * the base pass completed cleanly therefore has the same outcome and the same warnings in the
 * profile pass, unless a constraint evaluated below it mentions `%resource` or `%rootResource`
 * (then it is not shared). The profile pass still makes every check of the root's own elements
 * (the profile's cardinalities, patterns, slices, constraints, nested elements).
 *
 * Valid only within one synchronous call (the resource must not change in between): the validator
 * creates one per resource and pair of passes, and the base pass clears it first. Shared only when
 * the base pass completed cleanly (every child crawled), at the same root path.
 */
export class SharedCrawls {
  /** Per child value of the root: its crawl, or null when it is not to be shared. */
  readonly byValue = new Map<object, SharedCrawl | null>();
  rootPath: string | undefined;
  root: unknown;
}

/** One clean crawl of a child of the root, and where it was. */
interface SharedCrawl {
  readonly type: string;
  readonly plan: SchemaPlan;
  /** The path pieces below the root: `.key`, and the array index if any. */
  readonly key: string | number;
  readonly index: string | number | undefined;
  /** The crawl's reference warnings, as text and path (each pass gets issues of its own). */
  readonly warnings: readonly (readonly [text: string, path: string])[];
}

let specialisedChecks = true;

/**
 * Turns the specialised checks ({@link compileCheck}) on or off (on by default); off, every key
 * takes the general path ({@link Walk.propertyIsClean}). For tests that compare the two.
 */
export function useSpecialisedChecks(enabled: boolean): void {
  specialisedChecks = enabled;
}

const UCUM_VALUE = toTypedValue(UCUM);

/** The warnings of a crawl that gave none (most): one array for all. */
const NO_WARNINGS: SharedCrawl['warnings'] = [];

type TypedValueWithPath = TypedValue & { path: string };

/** The values one element yields for one parent, as Medplum's navigation returns them. */
type PropertyValues = TypedValueWithPath | TypedValueWithPath[];

/**
 * One present key's checks and crawl, specialised to its plan (see {@link compileCheck}); `raw` is
 * the object's value at the key. The value comes first so that a primitive's own test (one
 * argument) is a check as it is, without a closure around it.
 */
export type PropertyCheck = (raw: unknown, walk: Walk) => boolean;

let walks = 0;

/** One walk of a value (exported for {@link PropertyCheck}'s type). */
export class Walk {
  /** This walk's number (see {@link KeyPlan.child}). */
  readonly id = ++walks;
  /** Reference warnings, in Medplum's order. */
  readonly warnings: OperationOutcomeIssue[] = [];
  /** The text and path of each warning, in the same order. */
  private readonly warningParts: [text: string, path: string][] = [];
  /** Where the base pass records its clean crawls of the root's children. */
  recording: Map<object, SharedCrawl | null> | undefined;
  /** The base pass's crawls, for the profile pass. */
  reusing: Map<object, SharedCrawl | null> | undefined;
  /** How many objects are being crawled (1: the root's children are). */
  private depth = 0;
  /** Per depth, the present keys of the object being checked there (reused: no array per object). */
  private readonly presentAt: KeyPlan[][] = [];
  /** Per depth, the values of those keys, in the same order. */
  private readonly valuesAt: unknown[][] = [];
  /** Keys go through their specialised checks (see {@link useSpecialisedChecks}). */
  private readonly specialised = specialisedChecks;
  /** Object.prototype has no enumerable key (for...in then lists only an object's own keys). */
  private readonly plainPrototype = !hasEnumerableKey(Object.prototype);
  /** Constraints evaluated that read `%resource` or `%rootResource` (such crawls are not shared). */
  private rootReads = 0;
  /** The resources entered, innermost last, for Medplum's `%resource` variable (typed on demand). */
  private readonly resources: Record<string, unknown>[];
  private readonly typedResources: (TypedValue | undefined)[] = [];
  /**
   * The path of the value being checked, as pieces (`Observation`, `.code`, `.coding`, 0 for `[0]`),
   * joined only for a warning: Medplum's paths, without a string per value.
   */
  path: (string | number)[];
  /** The variables Medplum binds for a constraint; `%context` and `%resource` set per evaluation. */
  private readonly variables: Record<string, TypedValue>;

  constructor(
    private readonly root: TypedValue,
    rootPath: string,
    private readonly isIndexed: (resourceType: string) => boolean
  ) {
    this.resources = [root.value as Record<string, unknown>];
    this.path = [rootPath];
    this.variables = { '%context': root, '%ucum': UCUM_VALUE, '%resource': root, '%rootResource': root };
  }

  /** Every check Medplum makes on one object and everything below it passes (warnings aside). */
  objectIsClean(record: Record<string, unknown>, type: string, plan: SchemaPlan): boolean {
    if (!plan.supported) {
      return false;
    }
    // Medplum's isResource, for a value known to be an object (every caller's is).
    const isResourceValue = 'resourceType' in record;
    if (
      isResourceValue &&
      (typeof record.resourceType !== 'string' || !this.isIndexed(record.resourceType))
    ) {
      return false;
    }
    // for...in lists inherited keys too: only an object whose prototype adds none skips the test.
    const proto = Object.getPrototypeOf(record) as unknown;
    const ownOnly = proto === null || (proto === Object.prototype && this.plainPrototype);
    if (this.depth > 0 && plan.nested.length === 0 && this.specialised) {
      const inOrder = this.keysInOrderAreClean(record, plan, isResourceValue, ownOnly);
      if (inOrder !== undefined) {
        return inOrder;
      }
    }
    // The elements present, in schema order (Medplum's visiting order, which orders its warnings).
    const present = (this.presentAt[this.depth] ??= []);
    const values = (this.valuesAt[this.depth] ??= []);
    let count = 0;
    let required = 0;
    let empty = true;
    for (const key in record) {
      if (!ownOnly && !Object.hasOwn(record, key)) {
        return false; // an inherited key, which Medplum's reading of the object may see: left to it
      }
      empty = false;
      if (key === 'resourceType') {
        continue;
      }
      const found = keyPlanAt(plan, key, count);
      if (!found) {
        return false;
      }
      // Read here, where the engine reads keys fastest: the value at the key the element names.
      const value = found.readKey === key ? record[key] : record[found.readKey];
      // Insert in schema order; keys usually come in that order already.
      let at = count++;
      while (at > 0 && present[at - 1]!.index > found.index) {
        present[at] = present[at - 1]!;
        values[at] = values[at - 1];
        at--;
      }
      present[at] = found;
      values[at] = value;
      // Two keys for one choice element. (Empty and null values fail later.)
      if (at > 0 && present[at - 1]!.index === found.index) {
        return false;
      }
      if (found.required) {
        required++;
      }
    }
    if (required < plan.required || (empty && this.depth > 0)) {
      return false; // below the root, an object without keys: Medplum's empty-value error
    }
    const entered = isResourceValue && record !== this.root.value;
    if (entered) {
      this.resources.push(record);
    }
    const nested = plan.nested;
    let next = 0;
    this.depth++;
    for (let i = 0; i < count; i++) {
      const found = present[i]!;
      for (; next < nested.length && nested[next]!.index < found.index; next++) {
        if (!this.nestedIsClean(record, type, nested[next]!)) {
          return false;
        }
      }
      if (!this.specialised) {
        this.path.push(found.dotKey);
        const clean = this.propertyIsClean(values[i], found);
        this.path.pop();
        if (!clean) {
          return false;
        }
        continue;
      }
      const check = (found.check ??= compileCheck(found));
      if (found.pathless) {
        if (!check(values[i], this)) {
          return false; // A type test: no warning, so no path.
        }
        continue;
      }
      this.path.push(found.dotKey);
      const clean = check(values[i], this);
      this.path.pop();
      if (!clean) {
        return false;
      }
    }
    for (; next < nested.length; next++) {
      if (!this.nestedIsClean(record, type, nested[next]!)) {
        return false;
      }
    }
    this.depth--;
    if (entered) {
      this.leave();
    }
    return true;
  }

  /**
   * {@link objectIsClean} in one loop for an object whose keys come in schema order (the usual
   * case), below the root and for a plan without nested elements: each key is checked as it is
   * met, so the order of checks and warnings is Medplum's. At the first key out of schema order
   * (or a second key of one choice element) it undoes what it did (warnings, depth, resource) and
   * returns undefined for the general loop, which sorts the keys first. The checks already made
   * change nothing else that matters: a crawl below the root is not recorded for sharing (only the
   * root's children are), and a constraint reading `%resource` counts the same when run again.
   */
  private keysInOrderAreClean(
    record: Record<string, unknown>,
    plan: SchemaPlan,
    isResourceValue: boolean,
    ownOnly: boolean
  ): boolean | undefined {
    const entered = isResourceValue && record !== this.root.value;
    if (entered) {
      this.resources.push(record);
    }
    const warned = this.warnings.length;
    let count = 0;
    let required = 0;
    let last = -1;
    let empty = true;
    this.depth++;
    for (const key in record) {
      if (!ownOnly && !Object.hasOwn(record, key)) {
        return false; // an inherited key, which Medplum's reading of the object may see: left to it
      }
      empty = false;
      if (key === 'resourceType') {
        continue;
      }
      const found = keyPlanAt(plan, key, count);
      if (!found) {
        return false;
      }
      count++;
      if (found.index <= last) {
        this.depth--;
        if (entered) {
          this.leave();
        }
        this.warnings.length = warned;
        this.warningParts.length = warned;
        return undefined;
      }
      last = found.index;
      if (found.required) {
        required++;
      }
      const value = found.readKey === key ? record[key] : record[found.readKey];
      const check = (found.check ??= compileCheck(found));
      if (found.pathless) {
        if (!check(value, this)) {
          return false;
        }
        continue;
      }
      this.path.push(found.dotKey);
      const clean = check(value, this);
      this.path.pop();
      if (!clean) {
        return false;
      }
    }
    if (required < plan.required || empty) {
      return false; // an object without keys: Medplum's empty-value error
    }
    this.depth--;
    if (entered) {
      this.leave();
    }
    return true;
  }

  /** Leaves the innermost resource entered. */
  private leave(): void {
    this.resources.pop();
    this.typedResources.length = Math.min(this.typedResources.length, this.resources.length);
  }

  /**
   * Medplum's per-property checks on one present element, then its crawl into the values: each
   * complex value against its type's schema. Any element; {@link compileCheck} gives the common
   * ones a specialised check instead.
   */
  propertyIsClean(raw: unknown, found: KeyPlan): boolean {
    const type = found.type;
    if (type === undefined) {
      return false;
    }
    if (!Array.isArray(raw)) {
      if (raw === undefined) {
        // A key whose value is undefined (an object built in code, not parsed JSON): Medplum reads
        // the key as unknown and reports it, so it is left to Medplum.
        return false;
      }
      if (found.isArray || 1 < found.min || 1 > found.max) {
        return false;
      }
      const valueType = found.dynamic && isResource(raw) ? raw.resourceType : type;
      if (found.patterned && !this.patternHolds(found.element, { type: valueType, value: raw })) {
        return false;
      }
      if (!this.valueIsChecked(raw, valueType, found)) {
        return false;
      }
      if (found.slicing && !slicesHold(found.element, [{ type: valueType, value: raw }])) {
        return false;
      }
      return this.valueIsCrawled(raw, valueType, found);
    }
    if (!found.isArray || raw.length === 0 || raw.length < found.min || raw.length > found.max) {
      return false;
    }
    const types = found.dynamic
      ? raw.map((v: unknown) => (isResource(v) ? v.resourceType : type))
      : undefined;
    if (found.patterned) {
      const shape = raw.map((value: unknown, i) => ({ type: types ? types[i]! : type, value }));
      if (!this.patternHolds(found.element, shape)) {
        return false;
      }
    }
    for (let i = 0; i < raw.length; i++) {
      this.path.push(i);
      const checked = this.valueIsChecked(raw[i], types ? types[i]! : type, found);
      this.path.pop();
      if (!checked) {
        return false;
      }
    }
    if (
      found.slicing &&
      !slicesHold(
        found.element,
        raw.map((value: unknown, i) => ({ type: types ? types[i]! : type, value }))
      )
    ) {
      return false;
    }
    for (let i = 0; i < raw.length; i++) {
      this.path.push(i);
      const crawled = this.valueIsCrawled(raw[i], types ? types[i]! : type, found);
      this.path.pop();
      if (!crawled) {
        return false;
      }
    }
    return true;
  }

  /** Medplum's fixed and pattern checks on the values of one element. */
  private patternHolds(element: InternalSchemaElement, shape: TypedValue | TypedValue[]): boolean {
    if (element.pattern && !deepIncludes(shape, element.pattern)) {
      return false;
    }
    return !element.fixed || deepEquals(shape, element.fixed);
  }

  /** One value's constraints, JSON type and format; a reference's target type (a warning). */
  valueIsChecked(value: unknown, type: string, found: KeyPlan): boolean {
    if (found.constraints.length > 0 && !this.constraintsHold(type, value, found.constraints)) {
      return false;
    }
    const primitive = found.dynamic ? primitivePlan(type) : found.primitive;
    if (!(primitive ? primitive.test(value) : objectIsPresent(value))) {
      return false;
    }
    if (found.references && type === 'Reference') {
      this.checkReferenceType(value, found);
    }
    return true;
  }

  /** Medplum's crawl into one value: a complex value against its type's schema. */
  private valueIsCrawled(value: unknown, type: string, found: KeyPlan): boolean {
    if (found.dynamic ? isPrimitiveType(type) : found.primitive !== undefined) {
      return true;
    }
    if (!found.dynamic) {
      return this.complexIsCrawled(value, type, found);
    }
    // Not cached for a value typed by its own resourceType (caller text).
    return this.crawl(value as Record<string, unknown>, type, planOf(getDataType(type)));
  }

  /** {@link valueIsCrawled} for an element whose static type is complex. */
  complexIsCrawled(value: unknown, type: string, found: KeyPlan): boolean {
    // Looked up once per walk (Medplum's map decides, and nothing changes it during a walk), the
    // plan reused while the schema is the same.
    const child = found.child;
    if (child.walk !== this.id) {
      const schema = getDataType(type);
      if (child.schema !== schema) {
        child.schema = schema;
        child.plan = planOf(schema);
      }
      child.walk = this.id;
    }
    if (this.depth !== 1 || (!this.recording && !this.reusing)) {
      return this.objectIsClean(value as Record<string, unknown>, type, child.plan!);
    }
    return this.crawl(value as Record<string, unknown>, type, child.plan!);
  }

  /** One complex value against its schema's plan; below the root, shared between passes. */
  private crawl(record: Record<string, unknown>, type: string, plan: SchemaPlan): boolean {
    if (this.depth !== 1 || (!this.recording && !this.reusing)) {
      return this.objectIsClean(record, type, plan);
    }
    const key = this.path[1]!;
    const index = this.path[2];
    if (this.reusing) {
      const shared = this.reusing.get(record);
      if (
        shared &&
        shared.type === type &&
        shared.plan === plan &&
        shared.key === key &&
        shared.index === index
      ) {
        for (const [text, path] of shared.warnings) {
          this.warn(text, path);
        }
        return true;
      }
      return this.objectIsClean(record, type, plan);
    }
    const start = this.warningParts.length;
    const reads = this.rootReads;
    const clean = this.objectIsClean(record, type, plan);
    const recording = this.recording!;
    // A value met twice (one object at two places) is not shared: its warnings' paths differ.
    recording.set(
      record,
      clean && this.rootReads === reads && !recording.has(record)
        ? {
            type,
            plan,
            key,
            index,
            warnings: start === this.warningParts.length ? NO_WARNINGS : this.warningParts.slice(start),
          }
        : null
    );
    return clean;
  }

  /**
   * A profile element below a child (`code.coding`): Medplum checks it on the values its own
   * navigation finds, then crawls those values again with their type's schema.
   */
  private nestedIsClean(record: Record<string, unknown>, type: string, nested: NestedPlan): boolean {
    const object: TypedValueWithPath = { type, value: record, path: this.pathText() };
    const groups = (nestedProperty(object, nested.steps, true) ??
      getNestedProperty(object, nested.key, { withPath: true })) as PropertyValues[];
    if (!this.visitGroups(groups, nested)) {
      return false;
    }
    for (const group of groups) {
      for (const value of Array.isArray(group) ? group : [group]) {
        if (!isPrimitiveType(value.type)) {
          const saved = this.path;
          this.path = [value.path];
          const clean = this.objectIsClean(
            value.value as Record<string, unknown>,
            value.type,
            planOf(getDataType(value.type))
          );
          this.path = saved;
          if (!clean) {
            return false;
          }
        }
      }
    }
    return true;
  }

  /** Medplum's per-property checks over the value groups its navigation found (nested elements). */
  private visitGroups(groups: readonly PropertyValues[], nested: NestedPlan): boolean {
    const element = nested.element;
    for (const group of groups) {
      if (!Array.isArray(group) && group.value === undefined) {
        // Absent: Medplum reports it when required, and checks no further group either way.
        return element.min === 0;
      }
      if (Array.isArray(group) !== Boolean(element.isArray) || (Array.isArray(group) && group.length === 0)) {
        return false;
      }
      const values = Array.isArray(group) ? group : [group];
      if (values.length < element.min || values.length > element.max) {
        return false;
      }
      const shape = Array.isArray(group)
        ? group.map((v) => ({ type: v.type, value: v.value }))
        : { type: group.type, value: group.value };
      if (!this.patternHolds(element, shape)) {
        return false;
      }
      for (const value of values) {
        const primitive = primitivePlan(value.type);
        if (
          !this.constraintsHold(value.type, value.value, nested.constraints) ||
          !(primitive ? primitive.test(value.value) : objectIsPresent(value.value))
        ) {
          return false;
        }
        if (nested.references && value.type === 'Reference') {
          const saved = this.path;
          this.path = [value.path];
          this.checkReferenceType(value.value, nested);
          this.path = saved;
        }
      }
      if (element.slicing && !slicesHold(element, values)) {
        return false;
      }
    }
    return true;
  }

  /** Every error-severity constraint Medplum evaluates is true, as Medplum's engine computes it. */
  constraintsHold(type: string, value: unknown, constraints: readonly ConstraintPlan[]): boolean {
    for (const plan of constraints) {
      if (plan.plain?.(value) === true) {
        continue; // certain without FHIRPath (see plain-constraints.ts)
      }
      if (plan.readsResource) {
        this.rootReads++;
      }
      const context: TypedValue = { type, value };
      this.variables['%context'] = context;
      this.variables['%resource'] = this.currentResource();
      // As evalFhirPathTyped, without copying the result: one value whose valueOf() is true.
      const result = atomOfPlan(plan).eval({ variables: this.variables }, [context]);
      if (
        result.length !== 1 ||
        (result[0]!.value as { valueOf(): unknown } | undefined)?.valueOf() !== true
      ) {
        return false;
      }
    }
    return true;
  }

  /** The innermost resource entered, typed as Medplum types it (`toTypedValue`). */
  private currentResource(): TypedValue {
    const at = this.resources.length - 1;
    return (this.typedResources[at] ??= toTypedValue(this.resources[at]));
  }

  /** {@link checkReferenceType}, for a check that goes on (true). */
  referenceChecked(value: unknown, found: Pick<KeyPlan, 'references'>): true {
    this.checkReferenceType(value, found);
    return true;
  }

  /** Medplum's warning for a reference to a resource type the element's target profiles leave out. */
  private checkReferenceType(value: unknown, found: Pick<KeyPlan, 'references'>): void {
    const references = found.references;
    if (!references || typeof value !== 'object' || value === null) {
      return;
    }
    const reference = (value as { reference?: unknown }).reference;
    // Medplum's isReference: a string `reference`.
    if (typeof reference !== 'string' || reference.startsWith('#')) {
      return;
    }
    const end = reference.includes('?') ? reference.indexOf('?') : reference.indexOf('/');
    const resourceType = end < 0 ? reference : reference.slice(0, end);
    if (!resourceType || references.any || references.types.has(resourceType)) {
      return;
    }
    this.warn(`Invalid reference: got "${resourceType}", expected "${references.expected}"`, this.pathText());
  }

  /** Adds Medplum's reference warning (its only kind), keeping its parts for a shared crawl. */
  private warn(text: string, path: string): void {
    this.warnings.push(createOperationOutcomeIssue('warning', 'structure', text, path));
    this.warningParts.push([text, path]);
  }

  /** The current path as Medplum writes it (`Observation.code.coding[0]`). */
  private pathText(): string {
    let text = '';
    for (const piece of this.path) {
      text += typeof piece === 'number' ? `[${piece}]` : piece;
    }
    return text;
  }
}

/** Medplum's slice counts: each value in the first slice whose discriminators all match. */
function slicesHold(element: InternalSchemaElement, values: readonly TypedValue[]): boolean {
  const slicing = element.slicing;
  if (!slicing) {
    return true;
  }
  const counts = slicing.slices.map(() => 0);
  for (const value of values) {
    const at = slicing.slices.findIndex((s) =>
      slicing.discriminator.every((d) =>
        arrayify(discriminatorValues(value, d.path))?.some((v) => matchDiscriminant(v, d, s))
      )
    );
    if (at >= 0) {
      counts[at]!++;
    }
  }
  return slicing.slices.every((slice, i) => counts[i]! >= slice.min && counts[i]! <= slice.max);
}

/** Medplum's `getNestedProperty(value, path)` for a discriminator, read directly when certain. */
function discriminatorValues(value: TypedValue, path: string): NestedValues {
  let steps = discriminatorSteps.get(path);
  if (steps === undefined) {
    steps = path.split('.');
    if (discriminatorSteps.size < 256) {
      discriminatorSteps.set(path, steps); // Bounded: paths come from profiles, possibly a caller's.
    }
  }
  return nestedProperty(value, steps, false) ?? getNestedProperty(value, path);
}

const discriminatorSteps = new Map<string, string[]>();

/** A non-empty object (not an array, not null): Medplum's test of a complex value. */
function objectIsPresent(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    return false;
  }
  for (const _ in v) {
    if (Object.hasOwn(v, _)) {
      return true;
    }
  }
  return false;
}

const never: PropertyCheck = () => false;

/**
 * The check of one key's values, specialised once to its element, with the same verdict and the
 * same warnings as {@link Walk.propertyIsClean}: the cardinality decided when it is fixed by the
 * plan, a primitive without constraints one type test per value (primitives give no warnings, so no
 * path is kept), a complex value checked and entered with its type's plan. Elements with patterns,
 * fixed values, slicing or values typed by their own `resourceType` take the general path.
 */
function compileCheck(found: KeyPlan): PropertyCheck {
  const type = found.type;
  if (type === undefined) {
    found.pathless = true;
    return never;
  }
  if (found.dynamic || found.patterned || found.slicing) {
    return (raw, walk) => walk.propertyIsClean(raw, found);
  }
  const { min, max } = found;
  const primitive = found.primitive;
  const test = primitive && found.constraints.length === 0 ? primitive.test : undefined;
  // What a complex value is checked for before its crawl (valueIsChecked's parts, bound here).
  const constrained = found.constraints.length > 0;
  const references = found.references !== undefined && type === 'Reference';
  if (!found.isArray) {
    if (1 < min || 1 > max) {
      found.pathless = true;
      return never;
    }
    if (test) {
      // Fails undefined and arrays too: they are never of a primitive's JSON type.
      found.pathless = true;
      return test;
    }
    if (primitive) {
      return (raw, walk) => raw !== undefined && !Array.isArray(raw) && walk.valueIsChecked(raw, type, found);
    }
    // A complex value: an object (its crawl fails it when it has no key, as objectIsPresent would),
    // its constraints and reference target, then its crawl.
    return (raw, walk) =>
      typeof raw === 'object' &&
      raw !== null &&
      !Array.isArray(raw) &&
      (!constrained || walk.constraintsHold(type, raw, found.constraints)) &&
      (!references || walk.referenceChecked(raw, found)) &&
      walk.complexIsCrawled(raw, type, found);
  }
  if (test) {
    found.pathless = true;
    return (raw) => {
      if (!Array.isArray(raw) || raw.length === 0 || raw.length < min || raw.length > max) {
        return false;
      }
      for (let i = 0; i < raw.length; i++) {
        if (!test(raw[i])) {
          return false;
        }
      }
      return true;
    };
  }
  return (raw, walk) => {
    if (!Array.isArray(raw) || raw.length === 0 || raw.length < min || raw.length > max) {
      return false;
    }
    if (primitive) {
      for (let i = 0; i < raw.length; i++) {
        walk.path.push(i);
        const checked = walk.valueIsChecked(raw[i], type, found);
        walk.path.pop();
        if (!checked) {
          return false;
        }
      }
      return true;
    }
    // Every value checked first, then every value crawled: Medplum's order of warnings. (Each crawl
    // fails an object without keys, as objectIsPresent would; any failure ends the walk, so which
    // check finds it first does not matter.)
    for (let i = 0; i < raw.length; i++) {
      const value: unknown = raw[i];
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        return false;
      }
      if (constrained && !walk.constraintsHold(type, value, found.constraints)) {
        return false;
      }
      if (references) {
        walk.path.push(i);
        walk.referenceChecked(value, found);
        walk.path.pop();
      }
    }
    for (let i = 0; i < raw.length; i++) {
      walk.path.push(i);
      const crawled = walk.complexIsCrawled(raw[i], type, found);
      walk.path.pop();
      if (!crawled) {
        return false;
      }
    }
    return true;
  };
}

/** True when for...in lists a key of the object (its own or inherited). */
function hasEnumerableKey(object: object): boolean {
  for (const _ in object) {
    return true;
  }
  return false;
}
