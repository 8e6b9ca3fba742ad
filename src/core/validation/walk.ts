import type { Resource } from '@medplum/fhirtypes';
import { sameItems } from '../json';
import type { ChildRef, ElementNode, ElementTree } from './element-tree';
import { isInline, isPrimitiveType } from './element-tree';
import { childLocation, indexLocation } from './location';
import type { ChildStep, PlanStep, WalkPlan } from './walk-plan';

/** Finds the tree to use for a type, a resource type, or an extension URL. */
export interface TreeSource {
  /** Base tree of an R4 data type or resource type; undefined when unknown. */
  readonly type: (name: string) => ElementTree | undefined;
  /** Tree of an extension definition by its `url`; undefined when unknown. */
  readonly extension: (url: string) => ElementTree | undefined;
}

/** What a visitor sees at each value. */
export interface Visit {
  readonly node: ElementNode;
  readonly value: unknown;
  /** Concrete type of the value (resolved for choice elements). */
  readonly type: string;
  readonly location: string;
  /** The resource that contains the value (a contained resource for values inside it). */
  readonly resource: Resource;
  /** The outermost resource. */
  readonly rootResource: Resource;
}

/** Called once per object value, after its children were found, for checks over a whole object. */
export type ObjectVisitor = (visit: Visit, definition: ElementNode) => void;

/**
 * Walks a resource along its element tree (a profile or a base definition), calling `onValue` for
 * every value that has a definition. Inline children of the tree win over the children of the
 * element's data type, which come from `source`; nested resources (contained, Bundle entries) are
 * walked with their base definitions; extensions with a known definition are walked with it.
 * Keys with no definition are skipped: the structural tiers report them. With a `plan`, subtrees
 * where the plan says the visitors cannot act are skipped too (see `walk-plan.ts`).
 * @param resource - The resource, already known to be a JSON object with a `resourceType`.
 * @param tree - The tree of the resource's type or of a profile on it.
 * @param source - Where data-type, resource and extension trees come from.
 * @param onValue - Visitor for every value.
 * @param onObject - Optional visitor for every object value, given the node holding its children.
 * @param plan - Which `(node, type)` to enter; every one when absent.
 */
export function walkResource(
  resource: Resource,
  tree: ElementTree,
  source: TreeSource,
  onValue: (visit: Visit) => void,
  onObject?: ObjectVisitor,
  plan?: WalkPlan
): void {
  // Per value: one LazyVisit, and no closure or iterator (issue 13: this walk meets thousands of
  // values per evaluation). The order of visits and their locations are those of the plain walk
  // (test/core/validation/walk-differential.test.ts keeps that walk as the oracle).
  const walkValue = (
    node: ElementNode,
    type: string,
    value: unknown,
    container: Resource,
    root: Resource,
    parent: LazyVisit | undefined,
    key: string | undefined,
    index: number
  ): void => {
    const record = typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
    // The definition that applies: a contentReference target, or an extension's own definition.
    let definition = node.contentReference ? (node.tree.byPath.get(node.contentReference) ?? node) : node;
    if (type === 'Extension' && record && typeof (record as { url?: unknown }).url === 'string') {
      definition = source.extension((record as { url: string }).url)?.root ?? definition;
    }
    const visit = new LazyVisit(definition, value, type, container, root, parent, key, index);
    onValue(visit);
    if (!record || isPrimitiveType(type)) {
      return;
    }
    if (type === 'Resource') {
      const resourceType = (record as { resourceType?: unknown }).resourceType;
      const nested = typeof resourceType === 'string' ? source.type(resourceType) : undefined;
      if (nested && (!plan || plan.wanted(nested.root, nested.type))) {
        // At the same location as the value holding it.
        walkValue(nested.root, nested.type, record, record as Resource, root, visit, undefined, -1);
      }
      return;
    }
    if (onObject) {
      onObject(visit, definition);
    }
    const fields = record as Record<string, unknown>;
    if (plan) {
      const planned = plan.planned(definition, type);
      const keys = planned.keys;
      if (keys.length <= FEW_KEYS) {
        // Most objects are wanted for one key or none (an `extension`): found without listing their keys.
        let only: string | undefined;
        let present = 0;
        for (let k = 0; k < keys.length; k++) {
          const childKey = keys[k]!;
          // `in` first: cheap, and false for most keys; an own enumerable key is always `in`.
          if (childKey in fields && propertyIsEnumerable.call(fields, childKey)) {
            only = childKey;
            if (++present > 1) {
              break;
            }
          }
        }
        if (present <= 1) {
          if (only !== undefined) {
            enter(planned.byKey.get(only)!, only, fields, container, root, visit);
          }
          return;
        }
      }
      // In the object's own key order, as without a plan: issues come in the order of the JSON.
      const byKey = planned.byKey;
      for (const childKey of Object.keys(fields)) {
        const child = byKey.get(childKey);
        if (child) {
          enter(child, childKey, fields, container, root, visit);
        }
      }
      return;
    }
    const typeTree = isInline(definition) ? undefined : source.type(type);
    const fallback = typeTree && typeTree.root !== definition ? typeTree.root : undefined;
    for (const childKey of Object.keys(fields)) {
      if (childKey === 'resourceType' || childKey.startsWith('_')) {
        continue;
      }
      const child = definition.children.get(childKey) ?? fallback?.children.get(childKey);
      if (child) {
        enter(child, childKey, fields, container, root, visit);
      }
    }
  };
  /** Walks the value (each item of an array) under one key of an object. */
  const enter = (
    child: ChildRef,
    childKey: string,
    fields: Record<string, unknown>,
    container: Resource,
    root: Resource,
    visit: LazyVisit
  ): void => {
    const childValue = fields[childKey];
    if (Array.isArray(childValue)) {
      for (let i = 0; i < childValue.length; i++) {
        walkValue(child.node, child.type, childValue[i], container, root, visit, childKey, i);
      }
    } else {
      walkValue(child.node, child.type, childValue, container, root, visit, childKey, -1);
    }
  };
  if (!plan || plan.wanted(tree.root, tree.type)) {
    walkValue(tree.root, tree.type, resource, resource, resource, undefined, undefined, -1);
  }
}

/**
 * The walk the tiers run: {@link walkResource} with a plan, showing the visitors only the values
 * where the plan acts ({@link WalkPlan.acts}). Its visits are exactly those of `walkResource(…, plan)`
 * at which the plan acts, in the same order, with the same locations (`walk-plan.test.ts` holds that):
 * a tier whose visitors do nothing elsewhere gives the same issues. Per value it reads the
 * precomputed {@link PlanStep} instead of looking the definition up, and a value between the
 * resource and an acting value is given a visit (for its location) only when a wanted child is
 * present (issue 13: most values walked are on the way to a few that act).
 * @param resource - The resource, already known to be a JSON object with a `resourceType`.
 * @param tree - The tree of the resource's type or of a profile on it.
 * @param plan - The plan of the check.
 * @param onValue - Visitor for every value where the plan acts.
 * @param onObject - Optional visitor for every object value where the plan acts, after `onValue`.
 */
export function walkActing(
  resource: Resource,
  tree: ElementTree,
  plan: WalkPlan,
  onValue: (visit: Visit) => void,
  onObject?: ObjectVisitor
): void {
  if (plan.wanted(tree.root, tree.type)) {
    new ActingWalk(plan, onValue, onObject).value(
      plan.step(tree.root, tree.type),
      resource,
      resource,
      resource,
      undefined,
      undefined,
      -1
    );
  }
}

/** One {@link walkActing} pass (methods rather than closures: no closure per call). */
class ActingWalk {
  constructor(
    private readonly plan: WalkPlan,
    private readonly onValue: (visit: Visit) => void,
    private readonly onObject: ObjectVisitor | undefined
  ) {}

  value(
    step: PlanStep,
    value: unknown,
    container: Resource,
    root: Resource,
    parent: LazyVisit | undefined,
    key: string | undefined,
    index: number
  ): void {
    const record =
      typeof value === 'object' && value !== null && !Array.isArray(value)
        ? (value as Record<string, unknown>)
        : undefined;
    if (step.extension && record !== undefined && typeof record.url === 'string') {
      step = this.plan.extensionStep(record.url) ?? step;
    }
    // The visit of this value: made now when the plan acts here, else when a child needs a parent.
    let visit: LazyVisit | undefined;
    if (step.acts) {
      visit = new LazyVisit(step.definition, value, step.type, container, root, parent, key, index);
      this.onValue(visit);
    }
    if (record === undefined || step.primitive) {
      return;
    }
    if (step.resource) {
      const resourceType = record.resourceType;
      const nested = typeof resourceType === 'string' ? this.plan.nestedStep(resourceType) : undefined;
      if (nested) {
        visit ??= new LazyVisit(step.definition, value, step.type, container, root, parent, key, index);
        // At the same location as the value holding it.
        this.value(nested, record, record as unknown as Resource, root, visit, undefined, -1);
      }
      return;
    }
    if (visit !== undefined && this.onObject) {
      this.onObject(visit, step.definition);
    }
    const keys = step.keys;
    if (keys.length === 0) {
      return;
    }
    if (keys.length <= FEW_KEYS) {
      // As walkResource: probe the few wanted keys; with one present, no need for the object's keys.
      let only = -1;
      let present = 0;
      for (let k = 0; k < keys.length; k++) {
        const childKey = keys[k]!;
        if (childKey in record && propertyIsEnumerable.call(record, childKey)) {
          only = k;
          if (++present > 1) {
            break;
          }
        }
      }
      if (present <= 1) {
        if (only >= 0) {
          visit ??= new LazyVisit(step.definition, value, step.type, container, root, parent, key, index);
          this.enter(step.children[only]!, keys[only]!, record, container, root, visit);
        }
        return;
      }
    }
    // In the object's own key order: issues come in the order of the JSON.
    const names = Object.keys(record);
    const children = childrenInOrder(step, names);
    for (let i = 0; i < names.length; i++) {
      const child = children[i];
      if (child) {
        visit ??= new LazyVisit(step.definition, value, step.type, container, root, parent, key, index);
        this.enter(child, names[i]!, record, container, root, visit);
      }
    }
  }

  /** Walks the value (each item of an array) under one key of an object. */
  private enter(
    child: ChildStep,
    childKey: string,
    fields: Record<string, unknown>,
    container: Resource,
    root: Resource,
    visit: LazyVisit
  ): void {
    const step = (child.next ??= this.plan.step(child.ref.node, child.ref.type));
    const childValue = fields[childKey];
    if (Array.isArray(childValue)) {
      for (let i = 0; i < childValue.length; i++) {
        this.value(step, childValue[i], container, root, visit, childKey, i);
      }
    } else {
      this.value(step, childValue, container, root, visit, childKey, -1);
    }
  }
}

/**
 * The wanted child of each key (undefined where none), from one of the step's last key orders when
 * it is the same: objects of one element come in a few key orders (an action with or without a
 * `documentation`), which one remembered order kept replacing (issue 13).
 */
function childrenInOrder(step: PlanStep, names: readonly string[]): readonly (ChildStep | undefined)[] {
  const orders = step.orders;
  for (let o = 0; o < orders.length; o++) {
    const order = orders[o]!;
    if (sameItems(order.names, names)) {
      return order.children;
    }
  }
  const children: (ChildStep | undefined)[] = [];
  for (let i = 0; i < names.length; i++) {
    children.push(step.byKey.get(names[i]!));
  }
  // The newest first; the oldest forgotten past ORDERS_KEPT.
  orders.unshift({ names, children });
  if (orders.length > ORDERS_KEPT) {
    orders.pop();
  }
  return children;
}

/** How many key orders a step remembers (see {@link childrenInOrder}). */
const ORDERS_KEPT = 4;

const propertyIsEnumerable = Object.prototype.propertyIsEnumerable;

/** Up to this many wanted keys, an object is probed for them instead of having its keys listed. */
const FEW_KEYS = 4;

/**
 * A visit whose location string is built only when asked for (issue 13: only issues need it, and
 * the walks visit every value): each visit knows its parent, the key it was reached by and its array
 * index, and the string is assembled from them on first use.
 */
class LazyVisit implements Visit {
  private built: string | undefined;

  constructor(
    readonly node: ElementNode,
    readonly value: unknown,
    readonly type: string,
    readonly resource: Resource,
    readonly rootResource: Resource,
    private readonly parent: LazyVisit | undefined,
    /** The key this value was reached by; undefined for the root, and for a resource nested at its holder's location. */
    private readonly key: string | undefined,
    /** Its index in the array under `key`, or -1. */
    private readonly index: number
  ) {}

  get location(): string {
    return this.built ?? LazyVisit.build(this);
  }

  /** Builds the location of `visit`, and of its ancestors on the way (iteratively: paths can be deep). */
  private static build(visit: LazyVisit): string {
    // The first ancestor already built (or the root), and the steps below it.
    const steps: LazyVisit[] = [];
    let at = visit;
    while (at.built === undefined && at.parent) {
      steps.push(at);
      at = at.parent;
    }
    let location = (at.built ??= at.resource.resourceType);
    for (let i = steps.length - 1; i >= 0; i--) {
      const step = steps[i]!;
      if (step.key !== undefined) {
        location = childLocation(location, step.key);
        if (step.index >= 0) {
          location = indexLocation(location, step.index);
        }
      }
      step.built = location;
    }
    return location;
  }
}
