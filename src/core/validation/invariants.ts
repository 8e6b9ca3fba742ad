import type { OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import type { CompiledFhirPath } from '../fhirpath/fhirpath';
import { compileFhirPath, isTrue } from '../fhirpath/fhirpath';
import { issue } from '../outcomes';
import type { ConstraintDef, ElementNode, ElementTree } from './element-tree';
import { isInline } from './element-tree';
import { CSD1_EXPRESSION, codesAreDistinct } from './csd1';
import { DOM3_EXPRESSION, unmatchedContained } from './dom3';
import { plainConstraint } from './plain-constraints';
import { childLocation } from './location';
import type { TreeRegistry } from './trees';
import type { ClassifiedIssues } from './types';
import type { Visit } from './walk';
import { walkActing, walkResource } from './walk';
import type { WalkPlan } from './walk-plan';
import { createWalkPlan } from './walk-plan';

/**
 * FHIRPath functions that @medplum/core 4.5.2 implements. Its `repeat`, `children`,
 * `descendants`, `trim`, `split`, `encode`, `decode`, `escape` and `unescape` are stubs that return
 * empty, and its `htmlChecks` always returns true (so txt-1 and txt-2 never fail), so they are absent here; an invariant calling any function not listed is silently passed
 * by Medplum and evaluated by this tier instead.
 */
const MEDPLUM_FUNCTIONS = new Set(
  (
    'empty hasValue exists all allTrue anyTrue allFalse anyFalse subsetOf supersetOf count distinct isDistinct ' +
    'where select ofType single first last tail skip take intersect exclude union combine iif ' +
    'toBoolean convertsToBoolean toInteger convertsToInteger toDate convertsToDate toDateTime convertsToDateTime ' +
    'toDecimal convertsToDecimal toQuantity convertsToQuantity toString convertsToString toTime convertsToTime ' +
    'indexOf substring startsWith endsWith contains upper lower replace matches replaceMatches length toChars ' +
    'join abs ceiling exp floor ln log power round sqrt truncate trace now timeOfDay today between is not ' +
    'resolve as type conformsTo getResourceKey getReferenceKey extension'
  ).split(' ')
);

/** Invariants Medplum skips by key (ele-1 is left out here too: the structural tiers cover empty elements). */
const MEDPLUM_SKIPPED_KEYS = new Set(['dom-3', 'org-1', 'sdf-19']);
const NOT_EVALUATED_KEYS = new Set(['ele-1']);

/** True when Medplum cannot evaluate the expression (it calls a function Medplum lacks). */
export function medplumCannotEvaluate(expression: string): boolean {
  for (const match of expression.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*\(/g)) {
    if (!MEDPLUM_FUNCTIONS.has(match[1]!)) {
      return true;
    }
  }
  return false;
}

/**
 * Removes `.trace(...)` calls: trace returns its input unchanged, and fhirpath.js would print
 * to the console (dom-3, ref-1 use it).
 */
export function withoutTrace(expression: string): string {
  let result = expression;
  for (let start = result.indexOf('.trace('); start >= 0; start = result.indexOf('.trace(')) {
    let depth = 0;
    let end = start + '.trace'.length;
    let quote = '';
    for (; end < result.length; end++) {
      const c = result[end]!;
      if (quote) {
        if (c === '\\') {
          end++;
        } else if (c === quote) {
          quote = '';
        }
      } else if (c === "'" || c === '"' || c === '`') {
        quote = c;
      } else if (c === '(') {
        depth++;
      } else if (c === ')' && --depth === 0) {
        break;
      }
    }
    result = result.slice(0, start) + result.slice(end + 1);
  }
  return result;
}

/**
 * The expression as evaluated here: without `.trace(...)`, with `descendants().as(T)` read as
 * `descendants().ofType(T)`, and with `is Boolean` read as `is boolean`.
 * - R4's dom-3 applies `as()` to a collection, which FHIRPath N1 (and fhirpath.js) reject with an
 *   error; the intent there is a type filter.
 * - R4's que-7 tests `answer is Boolean`: a FHIR `boolean` is not a System.Boolean for `is`, so a
 *   strict engine fails every valid `exists` enableWhen; the intent is the FHIR type.
 */
export function evaluableExpression(expression: string): string {
  return withoutTrace(expression)
    .replace(/descendants\(\)\.as\(/g, 'descendants().ofType(')
    .replace(/\bis Boolean\b/g, 'is boolean');
}

/** dom-3 and csd-1 as R4 writes them, which this tier checks in plain code. */
function isPlain(constraint: ConstraintDef): boolean {
  return (
    (constraint.key === 'dom-3' && constraint.expression === DOM3_EXPRESSION) ||
    (constraint.key === 'csd-1' && constraint.expression === CSD1_EXPRESSION)
  );
}

/** A cardinality Medplum does not enforce: a profile's change to an element inside a backbone element. */
interface NestedCardinality {
  readonly node: ElementNode;
  readonly name: string;
  readonly keys: readonly string[];
}

/** The invariant tier. */
export interface InvariantTier {
  /**
   * Base mode: the base-definition invariants Medplum cannot evaluate (structural), and the
   * invariants of known extension definitions, which Medplum never applies (conformance).
   */
  readonly validateBase: (resource: Resource) => ClassifiedIssues;
  /**
   * Profile mode: what Medplum misses of the profile itself (conformance): invariants the profile
   * adds that use functions Medplum lacks or sit inside backbone elements (Medplum validates those
   * with the base backbone types), and cardinalities the profile changes inside backbone elements.
   */
  readonly validateProfile: (resource: Resource, profile: StructureDefinition) => OperationOutcomeIssue[];
  /** True when base mode acts at a value of this definition (its walk plan's `acts`). */
  readonly baseActs: (definition: ElementNode) => boolean;
  /**
   * Base mode at one value of a walk over the base definition, adding its issues to `found`; a walk
   * that shows it every value where {@link InvariantTier.baseActs} holds, in walk order, gives
   * `validateBase(resource)`'s issues (`base-pass.ts` runs the binding tier in the same walk).
   */
  readonly baseVisit: (visit: Visit, found: ClassifiedIssues) => void;
}

/** A constraint chosen for a node, prepared for evaluation. */
interface Selected extends ConstraintDef {
  /** The expression as evaluated ({@link evaluableExpression}). */
  readonly evaluable: string;
  /** Index of an earlier constraint of the same node with the same expression (txt-1, txt-2), or -1. */
  readonly sameAs: number;
  /**
   * The compiled expression by base type, kept here rather than looked up in the shared cache per
   * value (issue 13); bounded by the node's types, which come from its definition, not from input.
   */
  readonly compiled: Map<string, CompiledFhirPath>;
  /** A plain check answering "holds" where that is certain (see {@link PLAIN_HOLDS}), else undefined. */
  readonly holds: ((value: unknown) => true | undefined) | undefined;
}

/**
 * The constraints this tier evaluates on output resources (con-4 on each Condition, tim-9 on each
 * Timing.repeat: their `and (`/`in (` read as calls Medplum lacks) whose plain-constraints.ts check is
 * used before FHIRPath: where it says "holds", fhirpath.js says true too
 * (`test/core/validation/invariant-plain.test.ts`); otherwise the expression is evaluated as before.
 */
const PLAIN_HOLDS = new Set(['con-4', 'tim-9']);

/** Options of {@link createInvariantTier}. */
export interface InvariantTierOptions {
  /**
   * Walk only where a constraint applies (default true); false walks every value, as before walk
   * plans (kept for the differential test of the two).
   */
  readonly plans?: boolean;
}

/**
 * Creates the invariant tier (fhirpath.js through `src/core/fhirpath`; each expression compiled once).
 * Only error-severity invariants are evaluated; warnings (dom-6 "should have narrative") are not.
 * Each pass walks only the paths to the elements whose constraints it evaluates (a walk plan per
 * pass; most values have none).
 * @param trees - Element trees.
 * @param options - Switches.
 * See: https://hl7.org/fhir/R4/conformance-rules.html#constraints
 */
export function createInvariantTier(trees: TreeRegistry, options: InvariantTierOptions = {}): InvariantTier {
  const selected = new WeakMap<ElementNode, readonly Selected[]>();
  const nested = new WeakMap<ElementNode, readonly NestedCardinality[]>();
  const usePlans = options.plans !== false;
  const baseActs = (definition: ElementNode): boolean => constraintsOf(definition).length > 0;
  const basePlan = usePlans
    ? createWalkPlan(trees, {
        acts: baseActs,
        nested: true,
        extensions: true,
      })
    : undefined;
  const profilePlans = new WeakMap<ElementTree, WalkPlan>();

  /** The plan of a profile pass: its own elements with constraints or nested cardinalities. */
  function profilePlan(tree: ElementTree): WalkPlan | undefined {
    if (!usePlans) {
      return undefined;
    }
    let plan = profilePlans.get(tree);
    if (!plan) {
      plan = createWalkPlan(trees, {
        acts: (definition) =>
          constraintsOf(definition, tree).length > 0 ||
          (isInline(definition) && nestedCardinalities(definition).length > 0),
        nested: false,
        extensions: false,
        within: tree,
      });
      profilePlans.set(tree, plan);
    }
    return plan;
  }

  /** Constraints of a node to evaluate, chosen once per node. */
  function constraintsOf(node: ElementNode, profileTree?: ElementTree): readonly Selected[] {
    let list = selected.get(node);
    if (!list) {
      list = prepare(choose(node, profileTree));
      selected.set(node, list);
    }
    return list;
  }

  /**
   * Notes which constraints share an expression: R4's txt-1 and txt-2 are both `htmlChecks()`, a scan
   * of the whole narrative, and one evaluation answers both. dom-3 and csd-1 (plain code) never share.
   */
  function prepare(constraints: readonly ConstraintDef[]): Selected[] {
    const prepared: Selected[] = [];
    for (const constraint of constraints) {
      const evaluable = evaluableExpression(constraint.expression);
      const sameAs = isPlain(constraint)
        ? -1
        : prepared.findIndex((p) => !isPlain(p) && p.evaluable === evaluable);
      const holds = PLAIN_HOLDS.has(constraint.key)
        ? plainConstraint(constraint.key, constraint.expression)
        : undefined;
      prepared.push({ ...constraint, evaluable, sameAs, compiled: new Map(), holds });
    }
    return prepared;
  }

  function choose(node: ElementNode, profileTree: ElementTree | undefined): readonly ConstraintDef[] {
    const tree = node.tree;
    const candidates = node.constraints.filter(
      (c) => c.severity === 'error' && !NOT_EVALUATED_KEYS.has(c.key)
    );
    if (tree.derivation === 'specialization') {
      return candidates.filter((c) => MEDPLUM_SKIPPED_KEYS.has(c.key) || medplumCannotEvaluate(c.expression));
    }
    const baseKeys = new Set(baseNode(node)?.constraints.map((c) => c.key) ?? []);
    const medplumApplies = tree === profileTree;
    return candidates.filter(
      (c) =>
        !baseKeys.has(c.key) &&
        (!medplumApplies ||
          node.insideBackbone ||
          MEDPLUM_SKIPPED_KEYS.has(c.key) ||
          medplumCannotEvaluate(c.expression))
    );
  }

  /** The element of the base definition at the same path (for a profile or extension node). */
  function baseNode(node: ElementNode): ElementNode | undefined {
    return trees.type(node.tree.type)?.byPath.get(node.path);
  }

  function evaluate(visit: Visit, constraints: readonly Selected[], out: OperationOutcomeIssue[]): void {
    // What each constraint gave: true (holds), false, or the error's message; read by `sameAs`.
    const results: (boolean | string)[] = [];
    for (const constraint of constraints) {
      const result = constraint.sameAs >= 0 ? results[constraint.sameAs]! : evaluateOne(visit, constraint);
      results.push(result);
      if (result === false) {
        out.push(
          issue(
            'error',
            'invariant',
            `Constraint ${constraint.key} not met: ${constraint.human}`,
            visit.location
          )
        );
      } else if (result !== true) {
        out.push(
          issue(
            'error',
            'processing',
            `Constraint ${constraint.key} could not be evaluated: ${result}`,
            visit.location
          )
        );
      }
    }
  }

  function evaluateOne(visit: Visit, constraint: Selected): boolean | string {
    if (constraint.key === 'dom-3' && constraint.expression === DOM3_EXPRESSION) {
      // Plain code: as FHIRPath it rescans the resource per contained resource (issue 14).
      return unmatchedContained(visit.value as Record<string, unknown>, visit.node, trees).length === 0;
    }
    if (constraint.key === 'csd-1' && constraint.expression === CSD1_EXPRESSION) {
      // Plain code: fhirpath.js compares every code with every other (issue 14.4).
      return codesAreDistinct(visit.value as Record<string, unknown>);
    }
    if (constraint.holds?.(visit.value) === true) {
      return true; // Certain from the JSON: no FHIRPath evaluation (issue 13).
    }
    const base = visit.node.path.includes('[x]') ? visit.type : visit.node.path;
    try {
      let compiled = constraint.compiled.get(base);
      if (!compiled) {
        compiled = compileFhirPath(constraint.evaluable, base);
        constraint.compiled.set(base, compiled);
      }
      return isTrue(
        compiled(visit.value, {
          resource: visit.resource,
          rootResource: visit.rootResource,
        })
      );
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }

  function nestedCardinalities(definition: ElementNode): readonly NestedCardinality[] {
    let list = nested.get(definition);
    if (!list) {
      const byNode = new Map<ElementNode, string[]>();
      for (const [key, child] of definition.children) {
        if (!child.node.insideBackbone) {
          continue;
        }
        const base = baseNode(child.node);
        if (base && base.min === child.node.min && base.max === child.node.max) {
          continue;
        }
        byNode.set(child.node, [...(byNode.get(child.node) ?? []), key]);
      }
      list = [...byNode].map(([node, keys]) => ({
        node,
        keys,
        name: node.path.slice(node.path.lastIndexOf('.') + 1).replace('[x]', ''),
      }));
      nested.set(definition, list);
    }
    return list;
  }

  function baseVisit(visit: Visit, found: ClassifiedIssues): void {
    const list = constraintsOf(visit.node);
    if (list.length > 0) {
      evaluate(
        visit,
        list,
        visit.node.tree.derivation === 'specialization' ? found.structural : found.conformance
      );
    }
  }

  return {
    baseActs,
    baseVisit,
    validateBase: (resource) => {
      const found: ClassifiedIssues = { structural: [], conformance: [] };
      const tree = trees.type(resource.resourceType);
      if (tree) {
        const onValue = (visit: Visit): void => baseVisit(visit, found);
        if (basePlan) {
          walkActing(resource, tree, basePlan, onValue);
        } else {
          walkResource(resource, tree, trees, onValue);
        }
      }
      return found;
    },
    validateProfile: (resource, profile) => {
      const out: OperationOutcomeIssue[] = [];
      const tree = trees.profile(profile);
      const onValue = (visit: Visit): void => {
        if (visit.node.tree === tree) {
          const list = constraintsOf(visit.node, tree);
          if (list.length > 0) {
            evaluate(visit, list, out);
          }
        }
      };
      const onObject = (visit: Visit, definition: ElementNode): void => {
        if (definition.tree !== tree || !isInline(definition)) {
          return;
        }
        const record = visit.value as Record<string, unknown>;
        for (const { node, keys, name } of nestedCardinalities(definition)) {
          let count = 0;
          for (const key of keys) {
            const v = record[key];
            count += Array.isArray(v) ? v.length : v === undefined ? 0 : 1;
          }
          if (count === 0 && node.min > 0) {
            out.push(
              issue('error', 'structure', 'Missing required property', childLocation(visit.location, name))
            );
          } else if (count < node.min || count > node.max) {
            const max = Number.isFinite(node.max) ? String(node.max) : '*';
            out.push(
              issue(
                'error',
                'structure',
                `Invalid number of values: expected ${node.min}..${max}, but found ${count}`,
                childLocation(visit.location, name)
              )
            );
          }
        }
      };
      const plan = profilePlan(tree);
      if (plan) {
        walkActing(resource, tree, plan, onValue, onObject);
      } else {
        walkResource(resource, tree, trees, onValue, onObject);
      }
      return out;
    },
  };
}
