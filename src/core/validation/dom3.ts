import type { ChildRef, ElementNode } from './element-tree';
import { isInline, isPrimitiveType } from './element-tree';
import type { TreeSource } from './walk';

/**
 * R4's dom-3 as written in the DomainResource definition. It is checked by {@link unmatchedContained}
 * only when a definition carries exactly this text; any other dom-3 goes through FHIRPath.
 */
export const DOM3_EXPRESSION =
  "contained.where((('#'+id in (%resource.descendants().reference | %resource.descendants().as(canonical) | " +
  "%resource.descendants().as(uri) | %resource.descendants().as(url))) or descendants().where(reference = '#').exists() " +
  "or descendants().where(as(canonical) = '#').exists() or descendants().where(as(canonical) = '#').exists()).not())" +
  ".trace('unmatched', id).empty()";

/** FHIR types that FHIRPath's `as(uri)` and `as(canonical)`/`as(url)` select (uri and its specialisations). */
const URI_TYPES = new Set(['uri', 'url', 'canonical', 'uuid', 'oid']);

/** How many values {@link unmatchedContained} has visited, in total (tests count work with it). */
export const dom3Work = { visited: 0 };

/**
 * dom-3 in one walk (linear in the resource), instead of FHIRPath that scans every descendant of
 * the resource once per contained resource (quadratic or worse in the body).
 *
 * Same meaning as the expression under fhirpath.js: a contained resource with an `id` is unmatched
 * unless `#id` is the value of some `reference` element below the resource (a child of a
 * descendant) or of a uri-typed value anywhere below it (uri, url, canonical, uuid, oid; not
 * `Extension.url`, which FHIRPath types as System.String), or the contained resource refers to its
 * container (`reference` = '#' below it, or a canonical '#'). A contained resource without an `id`
 * is never unmatched (the FHIRPath condition is empty for it). Extensions on primitives (`_x`) are
 * descendants too.
 * @param resource - The resource (a JSON object with a `resourceType`), valid against the structural tiers.
 * @param root - The root element of its type's tree.
 * @param trees - Where data-type and resource trees come from.
 * @returns The ids of the unmatched contained resources (empty when dom-3 holds).
 */
export function unmatchedContained(
  resource: Record<string, unknown>,
  root: ElementNode,
  trees: TreeSource
): string[] {
  const contained = resource.contained;
  if (!Array.isArray(contained) || contained.length === 0) {
    return [];
  }
  const references = new Set<string>();
  const refersToContainer = new Array<boolean>(contained.length).fill(false);
  // `within` is the index of the contained resource a value is under (-1: none); `depth` counts
  // the steps from the resource, and `containedDepth` those from that contained resource.
  const walkObject = (
    record: Record<string, unknown>,
    definition: ElementNode,
    type: string,
    depth: number,
    within: number,
    containedDepth: number
  ): void => {
    dom3Work.visited++;
    const typeTree = isInline(definition) ? undefined : trees.type(type);
    const fallback = typeTree && typeTree.root !== definition ? typeTree.root : undefined;
    for (const key of Object.keys(record)) {
      if (key === 'resourceType') {
        continue;
      }
      const value = record[key];
      if (key.startsWith('_')) {
        // A primitive's extensions (`_x`: an Element one step below, its extensions two).
        const extensionTree = trees.type('Extension');
        for (const element of Array.isArray(value) ? value : [value]) {
          const extensions = isRecord(element) ? element.extension : undefined;
          if (!extensionTree || !Array.isArray(extensions)) {
            continue;
          }
          for (const item of extensions) {
            if (isRecord(item)) {
              walkObject(item, extensionTree.root, 'Extension', depth + 2, within, containedDepth + 2);
            }
          }
        }
        continue;
      }
      const child = definition.children.get(key) ?? fallback?.children.get(key);
      if (!child) {
        continue; // not in the definition: the structural tiers report it
      }
      const childDepth = depth + 1;
      const childWithin = depth === 0 && key === 'contained' ? -2 : within; // -2: set per item below
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          walkItem(value[i], i, key, child, depth, childDepth, childWithin, containedDepth);
        }
      } else {
        walkItem(value, 0, key, child, depth, childDepth, childWithin, containedDepth); // no array per value
      }
    }
  };
  /** One value (an array's item at `i`) under `key` of an object at `depth`. */
  const walkItem = (
    item: unknown,
    i: number,
    key: string,
    child: ChildRef,
    depth: number,
    childDepth: number,
    childWithin: number,
    containedDepth: number
  ): void => {
    const itemWithin = childWithin === -2 ? i : childWithin;
    const itemContainedDepth = childWithin === -2 ? 0 : containedDepth + 1;
    if (typeof item === 'string') {
      dom3Work.visited++;
      const node = child.node;
      if (key === 'reference' && depth >= 1) {
        references.add(item);
        if (itemWithin >= 0 && itemContainedDepth >= 2 && item === '#') {
          refersToContainer[itemWithin] = true;
        }
      }
      if (URI_TYPES.has(child.type) && node.path !== 'Extension.url') {
        references.add(item);
        if (itemWithin >= 0 && itemContainedDepth >= 1 && child.type === 'canonical' && item === '#') {
          refersToContainer[itemWithin] = true;
        }
      }
      return;
    }
    if (!isRecord(item) || isPrimitiveType(child.type)) {
      return;
    }
    if (child.type === 'Resource') {
      const nested = typeof item.resourceType === 'string' ? trees.type(item.resourceType) : undefined;
      if (nested) {
        walkObject(item, nested.root, nested.type, childDepth, itemWithin, itemContainedDepth);
      }
      return;
    }
    const node = child.node.contentReference
      ? (child.node.tree.byPath.get(child.node.contentReference) ?? child.node)
      : child.node;
    walkObject(item, node, child.type, childDepth, itemWithin, itemContainedDepth);
  };
  walkObject(resource, root, String(resource.resourceType), 0, -1, 0);

  const unmatched: string[] = [];
  contained.forEach((item: unknown, i) => {
    if (isRecord(item) && typeof item.id === 'string') {
      if (!references.has(`#${item.id}`) && !refersToContainer[i]) {
        unmatched.push(item.id);
      }
    }
  });
  return unmatched;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
