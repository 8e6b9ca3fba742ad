import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import type {
  Constraint,
  FhirPathAtom,
  InternalSchemaElement,
  InternalTypeSchema,
  TypedValue,
} from '@medplum/core';
import {
  arrayify,
  capitalize,
  createOperationOutcomeIssue,
  deepEquals,
  deepIncludes,
  evalFhirPathTyped,
  fhirTypeToJsType,
  getDataType,
  getNestedProperty,
  isPrimitiveType,
  isReference,
  isResource,
  matchDiscriminant,
  parseFhirPath,
  toTypedValue,
  UCUM,
  validationRegexes,
} from '@medplum/core';
import { LruCache } from '../lru';
import { plainConstraint } from './plain-constraints';

/**
 * The issues Medplum's validator (`validateResource`, `validateTypedValue`) reports for a value,
 * computed quickly when that is certain, or `undefined` when the caller must run Medplum itself.
 *
 * Medplum's validator crawls every element of every type's schema for every object, present or not,
 * resolving each choice element by trying each of its types: most of its time goes to elements that
 * are absent. This walk reads the same schemas in the same order but visits only the elements an
 * object has. It makes every check Medplum makes: required elements, cardinality, array-ness, fixed
 * and pattern values, slice counts, every error-severity constraint (evaluated by Medplum's own
 * FHIRPath engine with the variables Medplum binds), reference target types, primitive JSON types and
 * formats, unknown, null, empty and conflicting properties. The only issue it reproduces is the
 * warning about a reference to a resource type the element does not list (output resources carry
 * `urn:uuid:` references, which Medplum reads as such a type); on any other finding, or anything it
 * does not model (primitive extensions `_x`, a key that could be read as two elements, a resource
 * type not yet indexed), it gives up and Medplum produces the exact issues.
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
 */
export function medplumIssues(
  root: TypedValue,
  schema: InternalTypeSchema,
  isIndexed: (resourceType: string) => boolean
): OperationOutcomeIssue[] | undefined {
  const value = root.value as unknown;
  if (!isResource(value) || typeof value.resourceType !== 'string' || !isIndexed(value.resourceType)) {
    return undefined;
  }
  const walk = new Walk(root, isIndexed);
  try {
    const start = { ...root, path: schema.path };
    return walk.constraintsHold(start, schema.constraints) && walk.objectIsClean(start, schema)
      ? walk.warnings
      : undefined;
  } catch {
    // Medplum would throw too (an unknown type, a failing helper): let it report that itself.
    return undefined;
  }
}

/** Constraint keys Medplum 4.5.2 never evaluates. */
const SKIPPED_CONSTRAINTS = new Set(['ele-1', 'dom-3', 'org-1', 'sdf-19']);
const HL7_PROFILES = 'http://hl7.org/fhir/StructureDefinition/';
const MEDPLUM_PROFILES = 'https://medplum.com/fhir/StructureDefinition/';
const MAX_STRING = 1024 * 1024;
const UCUM_VALUE = toTypedValue(UCUM);

type TypedValueWithPath = TypedValue & { path: string };

/** How one JSON key of an object maps to an element of its schema. */
interface KeyInfo {
  readonly elementKey: string;
  readonly element: InternalSchemaElement;
  /** Position of the element in the schema (Medplum's crawl and report order). */
  readonly index: number;
  /** The type Medplum gives the values: the choice key's type (`valueCoding` → `Coding`) or the element's. */
  readonly type: string | undefined;
}

/** A profile element below a child (`code.coding`), with its position in the schema. */
interface NestedElement {
  readonly key: string;
  readonly element: InternalSchemaElement;
  readonly index: number;
}

/** What the walk needs of a schema, computed once per schema object. */
interface SchemaInfo {
  /** Every JSON key Medplum reads as exactly one element; keys absent here are left to Medplum. */
  readonly keys: ReadonlyMap<string, KeyInfo>;
  /** How many elements must be present (min > 0). */
  readonly required: number;
  /** Profile elements below a child, in schema order. */
  readonly nested: readonly NestedElement[];
  /** False when the schema has a shape this walk does not model. */
  readonly supported: boolean;
}

const schemaInfos = new WeakMap<InternalTypeSchema, SchemaInfo>();
/** Parsed constraint expressions by text (bounded: profiles may come with a request). */
const atoms = new LruCache<string, FhirPathAtom>(4096);

function infoOf(schema: InternalTypeSchema): SchemaInfo {
  let info = schemaInfos.get(schema);
  if (!info) {
    info = buildInfo(schema);
    schemaInfos.set(schema, info);
  }
  return info;
}

function buildInfo(schema: InternalTypeSchema): SchemaInfo {
  const keys = new Map<string, KeyInfo>();
  const ambiguous = new Set<string>();
  const nested: NestedElement[] = [];
  let required = 0;
  let supported = true;
  Object.entries(schema.elements).forEach(([elementKey, element], index) => {
    if (elementKey.includes('.')) {
      nested.push({ key: elementKey, element, index });
      return;
    }
    if (element.path.slice(element.path.lastIndexOf('.') + 1) !== elementKey) {
      supported = false;
    }
    if (element.min > 0) {
      required++;
    }
    // Medplum types a value by the first type whose key is present: for a plain element every type
    // has the same key, so its first type; Element and BackboneElement stand for that first type.
    const plainType = element.type[0]?.code;
    const candidates = elementKey.endsWith('[x]')
      ? element.type.map((t) => [elementKey.replace('[x]', capitalize(t.code)), t.code] as const)
      : [[elementKey, plainType] as const];
    for (const [key, type] of candidates) {
      if (keys.has(key)) {
        ambiguous.add(key);
      }
      const typed = type === 'Element' || type === 'BackboneElement' ? plainType : type;
      keys.set(key, { elementKey, element, index, type: typed });
    }
  });
  // Medplum's unknown-property check reads a key as a choice element when a prefix of it ending
  // before a capital letter (or the whole key) names a `[x]` element; a key read two ways is left
  // to Medplum.
  for (const [key, info] of keys) {
    const choice = choicePrefixOf(key, schema.elements);
    if (choice !== (info.elementKey.endsWith('[x]') ? info.elementKey : undefined)) {
      ambiguous.add(key);
    }
  }
  for (const key of ambiguous) {
    keys.delete(key);
  }
  return { keys, required, nested, supported };
}

/** The first `[x]` element Medplum's unknown-property check would match the key to. */
function choicePrefixOf(key: string, elements: Record<string, InternalSchemaElement>): string | undefined {
  for (let i = 1; i <= key.length; i++) {
    if (i === key.length || (key[i]! >= 'A' && key[i]! <= 'Z')) {
      const candidate = `${key.slice(0, i)}[x]`;
      if (elements[candidate]) {
        return candidate;
      }
    }
  }
  return undefined;
}

/** The values one element yields for one parent: a single value, a list, or absent. */
type PropertyValues = TypedValueWithPath | TypedValueWithPath[];

class Walk {
  /** Reference warnings, in Medplum's order. */
  readonly warnings: OperationOutcomeIssue[] = [];
  /** The resources entered, innermost last, as Medplum's `%resource` variable. */
  private readonly resources: TypedValue[];

  constructor(
    private readonly root: TypedValue,
    private readonly isIndexed: (resourceType: string) => boolean
  ) {
    this.resources = [toTypedValue(root.value)];
  }

  /** Every check Medplum makes on one object and everything below it passes (warnings aside). */
  objectIsClean(object: TypedValueWithPath, schema: InternalTypeSchema): boolean {
    const info = infoOf(schema);
    if (!info.supported) {
      return false;
    }
    const record = object.value as Record<string, unknown>;
    const isResourceValue = isResource(record);
    if (
      isResourceValue &&
      (typeof record.resourceType !== 'string' || !this.isIndexed(record.resourceType))
    ) {
      return false;
    }
    const present: KeyInfo[] = [];
    let required = 0;
    for (const key of Object.keys(record)) {
      if (key === 'resourceType') {
        continue;
      }
      const found = info.keys.get(key);
      if (!found) {
        return false;
      }
      // Two keys for one choice element. (Empty and null values fail later.)
      for (const other of present) {
        if (other.index === found.index) {
          return false;
        }
      }
      present.push(found);
      if (found.element.min > 0) {
        required++;
      }
    }
    if (required < info.required) {
      return false;
    }
    // Medplum visits the elements in schema order; the order matters for its warnings.
    present.sort((a, b) => a.index - b.index);
    const entered = isResourceValue && record !== this.root.value;
    if (entered) {
      this.resources.push(toTypedValue(record));
    }
    let next = 0;
    for (const found of present) {
      for (; next < info.nested.length && info.nested[next]!.index < found.index; next++) {
        if (!this.nestedIsClean(object, info.nested[next]!)) {
          return false;
        }
      }
      const values = this.typedValues(object, found);
      if (!values || !this.visitProperty([values], found.element) || !this.valuesAreClean(values)) {
        return false;
      }
    }
    for (; next < info.nested.length; next++) {
      if (!this.nestedIsClean(object, info.nested[next]!)) {
        return false;
      }
    }
    if (entered) {
      this.resources.pop();
    }
    return true;
  }

  /**
   * A profile element below a child (`code.coding`): Medplum checks it on the values its own
   * navigation finds, then crawls those values again with their type's schema.
   */
  private nestedIsClean(object: TypedValueWithPath, nested: NestedElement): boolean {
    const groups = getNestedProperty(object, nested.key, { withPath: true });
    if (!this.visitProperty(groups, nested.element)) {
      return false;
    }
    for (const group of groups) {
      if (!this.valuesAreClean(group)) {
        return false;
      }
    }
    return true;
  }

  /** Medplum's crawl into the values: each complex value against its type's schema. */
  private valuesAreClean(values: PropertyValues): boolean {
    if (!Array.isArray(values)) {
      return isPrimitiveType(values.type) || this.objectIsClean(values, getDataType(values.type));
    }
    for (const value of values) {
      if (!isPrimitiveType(value.type) && !this.objectIsClean(value, getDataType(value.type))) {
        return false;
      }
    }
    return true;
  }

  /**
   * The property's values as Medplum types them (see {@link KeyInfo.type}); a value of type
   * Resource takes its resourceType. Undefined for shapes left to Medplum.
   */
  private typedValues(parent: TypedValueWithPath, found: KeyInfo): PropertyValues | undefined {
    const type = found.type;
    if (type === undefined) {
      return undefined;
    }
    const key = found.elementKey.endsWith('[x]')
      ? found.elementKey.replace('[x]', capitalize(type))
      : found.elementKey;
    const raw = (parent.value as Record<string, unknown>)[key];
    const path = `${parent.path}.${found.elementKey}`;
    if (!Array.isArray(raw)) {
      return { type: type === 'Resource' && isResource(raw) ? raw.resourceType : type, value: raw, path };
    }
    const values: TypedValueWithPath[] = new Array<TypedValueWithPath>(raw.length);
    for (let i = 0; i < raw.length; i++) {
      const value: unknown = raw[i];
      values[i] = {
        type: type === 'Resource' && isResource(value) ? value.resourceType : type,
        value,
        path: `${path}[${i}]`,
      };
    }
    return values;
  }

  /** Medplum's per-property checks, over the value groups its navigation found. */
  private visitProperty(groups: readonly PropertyValues[], element: InternalSchemaElement): boolean {
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
      if (element.pattern || element.fixed) {
        const shape = Array.isArray(group)
          ? group.map((v) => ({ type: v.type, value: v.value }))
          : { type: group.type, value: group.value };
        if (element.pattern && !deepIncludes(shape, element.pattern)) {
          return false;
        }
        if (element.fixed && !deepEquals(shape, element.fixed)) {
          return false;
        }
      }
      const slicing = element.slicing;
      const counts = slicing ? new Map(slicing.slices.map((s) => [s.name, 0])) : undefined;
      for (const value of values) {
        if (!this.constraintsHold(value, element.constraints) || !valueIsClean(value)) {
          return false;
        }
        this.checkReferenceType(value, element);
        if (slicing && counts) {
          const slice = slicing.slices.find((s) =>
            slicing.discriminator.every((d) =>
              arrayify(getNestedProperty(value, d.path))?.some((v) => matchDiscriminant(v, d, s))
            )
          );
          if (slice) {
            counts.set(slice.name, counts.get(slice.name)! + 1);
          }
        }
      }
      if (slicing && counts) {
        for (const slice of slicing.slices) {
          const count = counts.get(slice.name)!;
          if (count < slice.min || count > slice.max) {
            return false;
          }
        }
      }
    }
    return true;
  }

  /** Every error-severity constraint Medplum evaluates is true, as Medplum's engine computes it. */
  constraintsHold(value: TypedValueWithPath, constraints: readonly Constraint[] | undefined): boolean {
    if (!constraints) {
      return true;
    }
    for (const constraint of constraints) {
      if (constraint.severity !== 'error' || SKIPPED_CONSTRAINTS.has(constraint.key)) {
        continue;
      }
      if (plainConstraint(constraint.key, constraint.expression)?.(value.value) === true) {
        continue; // certain without FHIRPath (see plain-constraints.ts)
      }
      const variables: Record<string, TypedValue> = {
        '%context': value,
        '%ucum': UCUM_VALUE,
        '%resource': this.resources[this.resources.length - 1]!,
        '%rootResource': this.root,
      };
      const result = evalFhirPathTyped(atomOf(constraint.expression), [value], variables);
      if (result.length !== 1 || result[0]!.value !== true) {
        return false;
      }
    }
    return true;
  }

  /** Medplum's warning for a reference to a resource type the element's target profiles leave out. */
  private checkReferenceType(value: TypedValueWithPath, element: InternalSchemaElement): void {
    if (value.type !== 'Reference' || !isReference(value.value)) {
      return;
    }
    const reference = value.value.reference;
    if (reference.startsWith('#')) {
      return;
    }
    const resourceType = reference.includes('?') ? reference.split('?')[0] : reference.split('/')[0];
    const targets = element.type.find((t) => t.code === 'Reference')?.targetProfile;
    if (!resourceType || !targets) {
      return;
    }
    for (const target of targets) {
      if (
        target === `${HL7_PROFILES}Resource` ||
        target === `${HL7_PROFILES}${resourceType}` ||
        target === `${MEDPLUM_PROFILES}${resourceType}` ||
        (!target.startsWith(HL7_PROFILES) && !target.startsWith(MEDPLUM_PROFILES))
      ) {
        return;
      }
    }
    this.warnings.push(
      createOperationOutcomeIssue(
        'warning',
        'structure',
        `Invalid reference: got "${resourceType}", expected "${targets.join('", "')}"`,
        value.path
      )
    );
  }
}

function atomOf(expression: string): FhirPathAtom {
  let atom = atoms.get(expression);
  if (!atom) {
    atom = parseFhirPath(expression);
    atoms.set(expression, atom);
  }
  return atom;
}

/** A primitive of the right JSON type and format, or a non-empty object without nulls. */
function valueIsClean(value: TypedValue): boolean {
  const v = value.value as unknown;
  if (!isPrimitiveType(value.type)) {
    return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length > 0;
  }
  const jsType = (fhirTypeToJsType as Record<string, string | undefined>)[value.type];
  if (jsType === undefined || typeof v !== jsType) {
    return false;
  }
  if (typeof v === 'string') {
    if (v.trim() === '' || v.length > MAX_STRING) {
      return false;
    }
    const regex = validationRegexes[value.type];
    return !regex || regex.exec(v) !== null;
  }
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) {
      return false;
    }
    if (value.type === 'integer' || value.type === 'positiveInt' || value.type === 'unsignedInt') {
      if (!Number.isInteger(v)) {
        return false;
      }
    }
    return !(value.type === 'positiveInt' && v <= 0) && !(value.type === 'unsignedInt' && v < 0);
  }
  return true;
}
