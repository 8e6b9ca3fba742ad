import type { Resource } from '@medplum/fhirtypes';
import type { ElementNode, ElementTree } from './element-tree';
import { isInline, isPrimitiveType } from './element-tree';
import { childLocation, indexLocation } from './location';

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
 * Keys with no definition are skipped: the structural tiers report them.
 * @param resource - The resource, already known to be a JSON object with a `resourceType`.
 * @param tree - The tree of the resource's type or of a profile on it.
 * @param source - Where data-type, resource and extension trees come from.
 * @param onValue - Visitor for every value.
 * @param onObject - Optional visitor for every object value, given the node holding its children.
 */
export function walkResource(
  resource: Resource,
  tree: ElementTree,
  source: TreeSource,
  onValue: (visit: Visit) => void,
  onObject?: ObjectVisitor
): void {
  const walkValue = (
    node: ElementNode,
    type: string,
    value: unknown,
    location: string,
    container: Resource,
    root: Resource
  ): void => {
    const record = typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
    // The definition that applies: a contentReference target, or an extension's own definition.
    let definition = node.contentReference ? (node.tree.byPath.get(node.contentReference) ?? node) : node;
    if (type === 'Extension' && record && typeof (record as { url?: unknown }).url === 'string') {
      definition = source.extension((record as { url: string }).url)?.root ?? definition;
    }
    onValue({ node: definition, value, type, location, resource: container, rootResource: root });
    if (!record || isPrimitiveType(type)) {
      return;
    }
    if (type === 'Resource') {
      const resourceType = (record as { resourceType?: unknown }).resourceType;
      const nested = typeof resourceType === 'string' ? source.type(resourceType) : undefined;
      if (nested) {
        walkValue(nested.root, nested.type, record, location, record as Resource, root);
      }
      return;
    }
    const typeTree = isInline(definition) ? undefined : source.type(type);
    const fallback = typeTree && typeTree.root !== definition ? typeTree.root : undefined;
    if (onObject) {
      onObject(
        { node: definition, value, type, location, resource: container, rootResource: root },
        definition
      );
    }
    for (const key of Object.keys(record)) {
      if (key === 'resourceType' || key.startsWith('_')) {
        continue;
      }
      const child = definition.children.get(key) ?? fallback?.children.get(key);
      if (!child) {
        continue;
      }
      const childDefinition = child.node;
      const childValue = (record as Record<string, unknown>)[key];
      const childLocationBase = childLocation(location, key);
      if (Array.isArray(childValue)) {
        for (let i = 0; i < childValue.length; i++) {
          walkValue(
            childDefinition,
            child.type,
            childValue[i],
            indexLocation(childLocationBase, i),
            container,
            root
          );
        }
      } else {
        walkValue(childDefinition, child.type, childValue, childLocationBase, container, root);
      }
    }
  };
  walkValue(tree.root, tree.type, resource, resource.resourceType, resource, resource);
}
