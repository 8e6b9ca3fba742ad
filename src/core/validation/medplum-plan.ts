import type { Constraint, FhirPathAtom, InternalSchemaElement, InternalTypeSchema } from '@medplum/core';
import { capitalize, parseFhirPath } from '@medplum/core';
import type { PropertyCheck } from './medplum-shortcut';
import type { PrimitivePlan } from './medplum-primitives';
import { primitivePlan } from './medplum-primitives';
import { plainConstraint } from './plain-constraints';

/**
 * What the Medplum shortcut (`medplum-shortcut.ts`) needs of a schema, derived once per schema
 * object instead of once per object walked: the element each JSON key names (with the type Medplum
 * gives its values), the required count, the constraints to evaluate (filtered, with their plain
 * checks and parsed expressions), the primitive checks, pattern, fixed value, slicing and reference
 * targets of each element.
 *
 * Plans are kept in a WeakMap keyed by the schema object: base schemas are bounded (the R4 types),
 * a profile schema is held by Medplum's type map only while the Medplum tier keeps it registered
 * (an LRU in `medplum.ts`), and once it is dropped from there its plan goes with it. A schema object
 * replaced in Medplum's map gets a new plan; nothing is keyed by caller text.
 */

/** Constraint keys Medplum 4.5.2 never evaluates. */
const SKIPPED_CONSTRAINTS = new Set(['ele-1', 'dom-3', 'org-1', 'sdf-19']);
const HL7_PROFILES = 'http://hl7.org/fhir/StructureDefinition/';
const MEDPLUM_PROFILES = 'https://medplum.com/fhir/StructureDefinition/';
/**
 * Medplum 4.5.2 implements `htmlChecks()` as `() => [true]` (it ignores its input), so txt-1 and
 * txt-2, on every narrative, always hold under Medplum. A test holds this against Medplum's engine.
 */
const ALWAYS_TRUE = new Set(['htmlChecks()']);

/** One error-severity constraint Medplum evaluates. */
export interface ConstraintPlan {
  readonly constraint: Constraint;
  /** A plain check certain of "holds" (plain-constraints.ts), or undefined. */
  readonly plain: ((value: unknown) => true | undefined) | undefined;
  /** The parsed expression, on first use (a parse error is thrown where Medplum's would be). */
  atom: FhirPathAtom | undefined;
  /** The expression mentions `%resource` or `%rootResource` (whose type differs between passes). */
  readonly readsResource: boolean;
}

/** Reference targets of an element, for Medplum's warning about an unlisted resource type. */
export interface ReferencePlan {
  readonly targets: readonly string[];
  /** A target that admits any resource type (`Resource`, or a profile outside HL7's and Medplum's). */
  readonly any: boolean;
  /** Resource types named by HL7 or Medplum base profiles. */
  readonly types: ReadonlySet<string>;
  /** Medplum's text for the expected targets. */
  readonly expected: string;
}

/** One JSON key of an object, read as one element of its schema. */
export interface KeyPlan {
  /** The JSON key. */
  readonly key: string;
  readonly elementKey: string;
  readonly element: InternalSchemaElement;
  /** Position of the element in the schema (Medplum's crawl and report order). */
  readonly index: number;
  /** The type Medplum gives the values: the choice key's type (`valueCoding` → `Coding`) or the element's. */
  readonly type: string | undefined;
  /** The key the values are read from (the element key with the type's name for `[x]`). */
  readonly readKey: string;
  /** `.` and the element key: the values' path below their parent. */
  readonly dotKey: string;
  /** `Resource`: each value takes its own resourceType as its type. */
  readonly dynamic: boolean;
  /** The static type is primitive (Medplum's `isPrimitiveType`); undefined when dynamic. */
  readonly primitive: PrimitivePlan | undefined;
  readonly required: boolean;
  readonly isArray: boolean;
  readonly min: number;
  readonly max: number;
  readonly constraints: readonly ConstraintPlan[];
  /** The element's Reference targets, checked on values of type Reference. */
  readonly references: ReferencePlan | undefined;
  /** The element has a pattern or a fixed value (read here: schema elements differ in shape). */
  readonly patterned: boolean;
  readonly slicing: InternalSchemaElement['slicing'];
  /**
   * The last schema the values' type resolved to, its plan (a one-entry cache), and the walk that
   * last resolved it (Medplum's type map cannot change during one synchronous walk).
   */
  readonly child: { schema: InternalTypeSchema | undefined; plan: SchemaPlan | undefined; walk: number };
  /** The walk's check of this key's value, specialised to this plan, built on first use. */
  check: PropertyCheck | undefined;
  /** The check reads no path (a type test: it cannot warn), so the walk keeps none for it. */
  pathless: boolean;
}

/** A profile element below a child (`code.coding`), with its position in the schema. */
export interface NestedPlan {
  readonly key: string;
  /** The key split at `.` (as Medplum's navigation splits it). */
  readonly steps: readonly string[];
  readonly element: InternalSchemaElement;
  readonly index: number;
  readonly constraints: readonly ConstraintPlan[];
  readonly references: ReferencePlan | undefined;
}

/** Everything the walk reads of one schema. */
export interface SchemaPlan {
  /** Every JSON key Medplum reads as exactly one element; keys absent here are left to Medplum. */
  readonly keys: ReadonlyMap<string, KeyPlan>;
  /** How many elements must be present (min > 0). */
  readonly required: number;
  /** Profile elements below a child, in schema order. */
  readonly nested: readonly NestedPlan[];
  /** False when the schema has a shape the walk does not model. */
  readonly supported: boolean;
  /** The schema's own constraints (checked on the root value). */
  readonly constraints: readonly ConstraintPlan[];
  /**
   * The key plan met at each position of the last object walked with this plan: objects of one type
   * mostly list their keys in the same order, so a position's key is compared with the one met there
   * last time (by value) before the table is asked. At most one entry per key of the plan.
   */
  readonly lastSeen: KeyPlan[];
}

/**
 * The key plan of `key` found at position `position` of an object: the one met there last time when it
 * is the same key, else the table's (remembered for next time); undefined for a key the schema lacks.
 */
export function keyPlanAt(plan: SchemaPlan, key: string, position: number): KeyPlan | undefined {
  const seen = plan.lastSeen[position];
  if (seen !== undefined && seen.key === key) {
    return seen;
  }
  const found = plan.keys.get(key);
  if (found) {
    plan.lastSeen[position] = found;
  }
  return found;
}

const plans = new WeakMap<InternalTypeSchema, SchemaPlan>();

/** The plan of a schema, built on first use. */
export function planOf(schema: InternalTypeSchema): SchemaPlan {
  let plan = plans.get(schema);
  if (!plan) {
    plan = buildPlan(schema);
    plans.set(schema, plan);
  }
  return plan;
}

/** True when a plan for this schema object has been built (and not collected); for tests. */
export function hasPlan(schema: InternalTypeSchema): boolean {
  return plans.has(schema);
}

function buildPlan(schema: InternalTypeSchema): SchemaPlan {
  const keys = new Map<string, KeyPlan>();
  const ambiguous = new Set<string>();
  const nested: NestedPlan[] = [];
  let required = 0;
  let supported = true;
  Object.entries(schema.elements).forEach(([elementKey, element], index) => {
    const targets = element.type.find((t) => t.code === 'Reference')?.targetProfile;
    const references = targets ? referencePlan(targets) : undefined;
    if (elementKey.includes('.')) {
      nested.push({
        key: elementKey,
        steps: elementKey.split('.'),
        element,
        index,
        constraints: constraintPlans(element.constraints),
        references,
      });
      return;
    }
    if (element.path.slice(element.path.lastIndexOf('.') + 1) !== elementKey) {
      supported = false;
    }
    if (element.min > 0) {
      required++;
    }
    const constraints = constraintPlans(element.constraints);
    // Medplum types a value by the first type whose key is present: for a plain element every type
    // has the same key, so its first type; Element and BackboneElement stand for that first type.
    const plainType = element.type[0]?.code;
    const candidates = elementKey.endsWith('[x]')
      ? element.type.map((t) => [elementKey.replace('[x]', capitalize(t.code)), t.code] as const)
      : [[elementKey, plainType] as const];
    for (const [key, code] of candidates) {
      if (keys.has(key)) {
        ambiguous.add(key);
      }
      const type = code === 'Element' || code === 'BackboneElement' ? plainType : code;
      const dynamic = type === 'Resource';
      keys.set(key, {
        key,
        elementKey,
        element,
        index,
        type,
        readKey:
          type !== undefined && elementKey.endsWith('[x]')
            ? elementKey.replace('[x]', capitalize(type))
            : elementKey,
        dotKey: `.${elementKey}`,
        dynamic,
        primitive: type === undefined || dynamic ? undefined : primitivePlan(type),
        required: element.min > 0,
        isArray: Boolean(element.isArray),
        min: element.min,
        max: element.max,
        constraints,
        references,
        patterned: Boolean(element.pattern || element.fixed),
        slicing: element.slicing,
        child: { schema: undefined, plan: undefined, walk: 0 },
        check: undefined,
        pathless: false,
      });
    }
  });
  // Medplum's unknown-property check reads a key as a choice element when a prefix of it ending
  // before a capital letter (or the whole key) names a `[x]` element; a key read two ways is left
  // to Medplum.
  for (const [key, plan] of keys) {
    const choice = choicePrefixOf(key, schema.elements);
    if (choice !== (plan.elementKey.endsWith('[x]') ? plan.elementKey : undefined)) {
      ambiguous.add(key);
    }
  }
  for (const key of ambiguous) {
    keys.delete(key);
  }
  return {
    keys,
    required,
    nested,
    supported,
    constraints: constraintPlans(schema.constraints),
    lastSeen: [],
  };
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

/** The error-severity constraints Medplum evaluates, less those that always hold under Medplum. */
function constraintPlans(constraints: readonly Constraint[] | undefined): ConstraintPlan[] {
  const out: ConstraintPlan[] = [];
  for (const constraint of constraints ?? []) {
    if (
      constraint.severity !== 'error' ||
      SKIPPED_CONSTRAINTS.has(constraint.key) ||
      ALWAYS_TRUE.has(constraint.expression)
    ) {
      continue;
    }
    out.push({
      constraint,
      plain: plainConstraint(constraint.key, constraint.expression),
      atom: undefined,
      readsResource: /%(root)?resource/i.test(constraint.expression),
    });
  }
  return out;
}

/** The parsed expression of a constraint (parsed once per plan). */
export function atomOfPlan(plan: ConstraintPlan): FhirPathAtom {
  plan.atom ??= parseFhirPath(plan.constraint.expression);
  return plan.atom;
}

function referencePlan(targets: readonly string[]): ReferencePlan {
  const types = new Set<string>();
  let any = false;
  for (const target of targets) {
    if (target.startsWith(HL7_PROFILES)) {
      const name = target.slice(HL7_PROFILES.length);
      if (name === 'Resource') {
        any = true;
      }
      types.add(name);
    } else if (target.startsWith(MEDPLUM_PROFILES)) {
      types.add(target.slice(MEDPLUM_PROFILES.length));
    } else {
      any = true;
    }
  }
  return { targets, any, types, expected: targets.join('", "') };
}
