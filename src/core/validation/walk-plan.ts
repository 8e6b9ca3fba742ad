import type { ChildRef, ElementNode, ElementTree } from './element-tree';
import { isInline, isPrimitiveType } from './element-tree';
import type { TreeSource } from './walk';

/**
 * Which values a walk must visit for one check: `(node, type)` is wanted when the check may act at
 * that element or anywhere below it. {@link walkResource} skips every other subtree, so a tier whose
 * check applies at a few elements (a required binding, an invariant Medplum cannot evaluate) visits
 * those and the paths to them instead of every value of the resource (issue 13).
 */
export interface WalkPlan {
  /** True when a value at `(node, type)` must be visited (before contentReference and extension resolution). */
  readonly wanted: (node: ElementNode, type: string) => boolean;
  /**
   * The children a value of this definition and type must have visited, by JSON key: the inline
   * children of the definition, else those of its data type, kept only when wanted.
   */
  readonly children: (definition: ElementNode, type: string) => ReadonlyMap<string, ChildRef>;
  /** The same children, with their keys also as an array (the walk probes them per object, see `walk.ts`). */
  readonly planned: (definition: ElementNode, type: string) => PlannedChildren;
  /**
   * True when the check acts at a value with this definition (after contentReference and extension
   * resolution) and type: the plan's `acts`, limited to its `within` tree.
   */
  readonly acts: (definition: ElementNode, type: string) => boolean;
  /** The step of a value at `(node, type)` (before contentReference and extension resolution), see {@link PlanStep}. */
  readonly step: (node: ElementNode, type: string) => PlanStep;
  /** The step of an `Extension` value with this `url` when its definition is known, else undefined. */
  readonly extensionStep: (url: string) => PlanStep | undefined;
  /**
   * The step of a nested resource of this `resourceType` when its type is known and the plan wants
   * it (`wanted(root, type)`), else undefined.
   */
  readonly nestedStep: (resourceType: string) => PlanStep | undefined;
}

/**
 * Everything {@link walkActing} needs at a value, worked out once per `(node, type)` so that a value
 * costs no look-up by definition or type and no type-name test (issue 13).
 */
export interface PlanStep {
  /** The definition that applies (a contentReference resolved); an `Extension` value may still take its URL's. */
  readonly definition: ElementNode;
  readonly type: string;
  /** The check acts here ({@link WalkPlan.acts}): the walk shows it this value. */
  readonly acts: boolean;
  /** A primitive type: nothing below is walked. */
  readonly primitive: boolean;
  /** `Resource`: the value is walked with the tree of its own `resourceType`. */
  readonly resource: boolean;
  /** `Extension`: the definition of the value's `url`, when known, replaces `definition`. */
  readonly extension: boolean;
  /** The wanted children's keys (as {@link PlannedChildren.keys}) and, in the same order, their steps. */
  readonly keys: readonly string[];
  readonly children: readonly ChildStep[];
  readonly byKey: ReadonlyMap<string, ChildStep>;
  /**
   * The keys of the last few objects walked here with more than a few wanted keys (each order once,
   * the newest first), and their children (undefined where not wanted): objects of one element
   * mostly come in a few key orders, and comparing the keys costs less than a look-up per key.
   * Bounded by `walk.ts`; each entry compared in full.
   */
  readonly orders: KeyOrder[];
}

/** An object's keys, in order, and the wanted child of each (or undefined). */
export interface KeyOrder {
  readonly names: readonly string[];
  readonly children: readonly (ChildStep | undefined)[];
}

/** A wanted child of a step; its own step is made when first entered (the element graph has cycles). */
export interface ChildStep {
  readonly ref: ChildRef;
  next: PlanStep | undefined;
}

/** The children a value must have visited: by JSON key, and the same keys as an array. */
export interface PlannedChildren {
  readonly byKey: ReadonlyMap<string, ChildRef>;
  readonly keys: readonly string[];
}

/** What a plan is computed from. */
export interface WalkPlanOptions {
  /**
   * True when the check acts at a value with this definition (after contentReference and extension
   * resolution) and concrete type; the rest of the plan follows from it.
   */
  readonly acts: (definition: ElementNode, type: string) => boolean;
  /** Nested resources (contained, Bundle entries) are checked: a `Resource` value is always wanted. */
  readonly nested: boolean;
  /** Definitions of known extensions are checked: an `Extension` value may take any of them. */
  readonly extensions: boolean;
  /** Only elements of this tree can act (a profile pass): the walk never enters other trees' nodes. */
  readonly within?: ElementTree;
}

/** Where the walk gets trees, and the extension definitions an `Extension` value may resolve to. */
export interface PlanSource extends TreeSource {
  readonly extensionTrees: () => readonly ElementTree[];
}

/**
 * Builds a plan, answered once per `(node, type)` and remembered (nodes are kept weakly; they belong
 * to the bounded tree caches). The answer is exact up to what input decides at run time (a nested
 * resource's type, an extension's URL), where it says "wanted": the walk resolves those and asks
 * again below them. The graph of element types has cycles (Extension.extension, Identifier.assigner,
 * contentReference), so a node is answered by searching everything reachable from it: when nothing
 * reachable acts, every node searched is unwanted too (what they reach is a part of it).
 * @param source - Trees.
 * @param options - The check, and what it follows.
 */
export function createWalkPlan(source: PlanSource, options: WalkPlanOptions): WalkPlan {
  const known = new WeakMap<ElementNode, Map<string, boolean>>();

  const remembered = (node: ElementNode, type: string): boolean | undefined => known.get(node)?.get(type);
  const remember = (node: ElementNode, type: string, wanted: boolean): void => {
    let byType = known.get(node);
    if (!byType) {
      byType = new Map();
      known.set(node, byType);
    }
    byType.set(type, wanted);
  };

  /** The definitions a value at `(node, type)` may be walked with, as `walkResource` resolves them. */
  function definitionsOf(node: ElementNode, type: string): ElementNode[] {
    const definition = node.contentReference ? (node.tree.byPath.get(node.contentReference) ?? node) : node;
    const found = [definition];
    if (type === 'Extension' && options.extensions) {
      for (const tree of source.extensionTrees()) {
        found.push(tree.root);
      }
    }
    return options.within ? found.filter((d) => d.tree === options.within) : found;
  }

  /** True when the check acts right here, or input decides what lies below (a nested resource). */
  function actsHere(type: string, definitions: readonly ElementNode[]): boolean {
    if (type === 'Resource' && options.nested) {
      return true;
    }
    return definitions.some((definition) => options.acts(definition, type));
  }

  /** Every child `(node, type)` a value at one of these definitions may have. */
  function childrenOf(type: string, definitions: readonly ElementNode[], out: [ElementNode, string][]): void {
    if (isPrimitiveType(type) || type === 'Resource') {
      return; // The walk stops at primitives; a nested resource is answered when met.
    }
    for (const definition of definitions) {
      const typeTree = isInline(definition) ? undefined : source.type(type);
      const fallback = typeTree && typeTree.root !== definition ? typeTree.root : undefined;
      for (const child of definition.children.values()) {
        out.push([child.node, child.type]);
      }
      if (fallback) {
        for (const [key, child] of fallback.children) {
          if (!definition.children.has(key)) {
            out.push([child.node, child.type]);
          }
        }
      }
    }
  }

  const wanted = (node: ElementNode, type: string): boolean => {
    const answer = remembered(node, type);
    if (answer !== undefined) {
      return answer;
    }
    const searched: [ElementNode, string][] = [];
    const seen = new Map<ElementNode, Set<string>>();
    const pending: [ElementNode, string][] = [[node, type]];
    let found = false;
    while (pending.length > 0) {
      const [at, atType] = pending.pop()!;
      const types = seen.get(at) ?? new Set<string>();
      if (types.has(atType)) {
        continue;
      }
      types.add(atType);
      seen.set(at, types);
      const before = remembered(at, atType);
      if (before === false) {
        continue; // Nothing below it acts.
      }
      const definitions = definitionsOf(at, atType);
      if (before === true || actsHere(atType, definitions)) {
        found = true;
        break;
      }
      searched.push([at, atType]);
      childrenOf(atType, definitions, pending);
    }
    if (found) {
      remember(node, type, true);
    } else {
      for (const [at, atType] of searched) {
        remember(at, atType, false);
      }
    }
    return found;
  };

  const childMaps = new WeakMap<ElementNode, Map<string, PlannedChildren>>();
  const planned = (definition: ElementNode, type: string): PlannedChildren => {
    let byType = childMaps.get(definition);
    if (!byType) {
      byType = new Map();
      childMaps.set(definition, byType);
    }
    let map = byType.get(type);
    if (!map) {
      // As `walkResource` finds a key's definition: the definition's own child first, else its type's.
      const typeTree = isInline(definition) ? undefined : source.type(type);
      const fallback = typeTree && typeTree.root !== definition ? typeTree.root : undefined;
      const kept = new Map<string, ChildRef>();
      for (const [key, child] of definition.children) {
        if (wanted(child.node, child.type)) {
          kept.set(key, child);
        }
      }
      for (const [key, child] of fallback?.children ?? []) {
        if (!definition.children.has(key) && wanted(child.node, child.type)) {
          kept.set(key, child);
        }
      }
      map = { byKey: kept, keys: [...kept.keys()] };
      byType.set(type, map);
    }
    return map;
  };

  const acts = (definition: ElementNode, type: string): boolean =>
    (!options.within || definition.tree === options.within) && options.acts(definition, type);

  const steps = new WeakMap<ElementNode, Map<string, PlanStep>>();
  const step = (node: ElementNode, type: string): PlanStep => {
    let byType = steps.get(node);
    if (!byType) {
      byType = new Map();
      steps.set(node, byType);
    }
    let found = byType.get(type);
    if (!found) {
      // As `walkResource` resolves it: a contentReference's target, else the node itself.
      const definition = node.contentReference ? (node.tree.byPath.get(node.contentReference) ?? node) : node;
      const primitive = isPrimitiveType(type);
      const resource = type === 'Resource';
      // A primitive or a nested resource has no children of its own definition walked.
      const children = primitive || resource ? undefined : planned(definition, type);
      const byKey = new Map<string, ChildStep>();
      for (const [key, ref] of children?.byKey ?? []) {
        byKey.set(key, { ref, next: undefined });
      }
      found = {
        definition,
        type,
        acts: acts(definition, type),
        primitive,
        resource,
        extension: type === 'Extension',
        keys: children?.keys ?? [],
        children: [...byKey.values()],
        byKey,
        orders: [],
      };
      byType.set(type, found);
    }
    return found;
  };

  // By URL and by resource type, for the walk's every Extension and nested resource; only known
  // definitions are kept (names from input that match nothing are not), so both stay bounded.
  const byUrl = new Map<string, PlanStep>();
  const extensionStep = (url: string): PlanStep | undefined => {
    let found = byUrl.get(url);
    if (found === undefined) {
      const tree = source.extension(url);
      if (!tree) {
        return undefined;
      }
      found = step(tree.root, 'Extension');
      byUrl.set(url, found);
    }
    return found;
  };
  const byResourceType = new Map<string, PlanStep | null>();
  const nestedStep = (resourceType: string): PlanStep | undefined => {
    let found = byResourceType.get(resourceType);
    if (found === undefined) {
      const tree = source.type(resourceType);
      if (!tree) {
        return undefined;
      }
      found = wanted(tree.root, tree.type) ? step(tree.root, tree.type) : null;
      byResourceType.set(resourceType, found);
    }
    return found ?? undefined;
  };

  return {
    wanted,
    planned,
    acts,
    step,
    extensionStep,
    nestedStep,
    children: (definition, type) => planned(definition, type).byKey,
  };
}
