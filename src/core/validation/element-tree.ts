import type { ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';

/** One `ElementDefinition.constraint`, as needed to evaluate it. */
export interface ConstraintDef {
  readonly key: string;
  readonly severity: 'error' | 'warning';
  readonly human: string;
  readonly expression: string;
}

/** A snapshot element, with its children indexed by the JSON keys they appear under. */
export interface ElementNode {
  /** `ElementDefinition.path`, e.g. `Condition.evidence.detail`. */
  readonly path: string;
  readonly min: number;
  /** `Infinity` for `*`. */
  readonly max: number;
  /** Type codes; a choice element has several. */
  readonly types: readonly string[];
  readonly binding?: { readonly strength: string; readonly valueSet?: string };
  readonly constraints: readonly ConstraintDef[];
  /** Children declared in this snapshot, keyed by JSON property name (`onsetDateTime`, `detail`). */
  readonly children: Map<string, ChildRef>;
  /** Path of the element whose definition this one reuses (`#QuestionnaireResponse.item`). */
  readonly contentReference?: string;
  /** True when an ancestor (not the root) is an inline BackboneElement/Element. */
  readonly insideBackbone: boolean;
  /** The tree this node belongs to. */
  tree: ElementTree;
}

/** A child reached by one JSON key; `type` is the concrete type of a choice key. */
export interface ChildRef {
  readonly node: ElementNode;
  readonly type: string;
}

/** The snapshot of one StructureDefinition as a tree. */
export interface ElementTree {
  readonly url: string;
  /** `StructureDefinition.type`: a resource or data type name. */
  readonly type: string;
  readonly derivation: 'specialization' | 'constraint';
  readonly root: ElementNode;
  readonly byPath: ReadonlyMap<string, ElementNode>;
}

const INLINE_TYPES = new Set(['BackboneElement', 'Element']);
const FHIR_TYPE_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type';

/**
 * Builds the element tree of a StructureDefinition snapshot. Slices (`id` with `:`) are left out:
 * extensions are matched by their `url` instead.
 * @param sd - A StructureDefinition with a snapshot.
 * See: https://hl7.org/fhir/R4/elementdefinition.html
 */
export function buildElementTree(sd: StructureDefinition): ElementTree {
  const elements = sd.snapshot?.element ?? [];
  if (elements.length === 0) {
    throw new Error(`StructureDefinition ${sd.url ?? sd.id ?? '(no url)'} has no snapshot`);
  }
  const byPath = new Map<string, ElementNode>();
  const tree = {
    url: sd.url ?? '',
    type: sd.type ?? elements[0]!.path ?? '',
    derivation: sd.derivation === 'constraint' ? 'constraint' : 'specialization',
    byPath,
  } as Omit<ElementTree, 'root'> & { root?: ElementNode };
  for (const element of elements) {
    if (!element.path || element.id?.includes(':')) {
      continue;
    }
    const dot = element.path.lastIndexOf('.');
    const parent = dot < 0 ? undefined : byPath.get(element.path.slice(0, dot));
    if (dot >= 0 && !parent) {
      continue; // a child of a sliced or unknown element
    }
    const node: ElementNode = {
      path: element.path,
      min: element.min ?? 0,
      max: element.max === '*' || element.max === undefined ? Infinity : Number(element.max),
      types: typeCodes(element),
      binding: element.binding?.strength
        ? { strength: element.binding.strength, valueSet: element.binding.valueSet }
        : undefined,
      constraints: (element.constraint ?? []).map((c) => ({
        key: c.key ?? '',
        severity: c.severity === 'warning' ? 'warning' : 'error',
        human: c.human ?? '',
        expression: c.expression ?? '',
      })),
      children: new Map(),
      contentReference: element.contentReference?.slice(element.contentReference.indexOf('#') + 1),
      insideBackbone: !!parent && parent !== tree.root && (parent.insideBackbone || isInline(parent)),
      tree: tree as ElementTree,
    };
    byPath.set(element.path, node);
    if (!parent) {
      tree.root = node;
      continue;
    }
    const name = element.path.slice(dot + 1);
    if (name.endsWith('[x]')) {
      const base = name.slice(0, -3);
      for (const type of node.types) {
        parent.children.set(base + type[0]!.toUpperCase() + type.slice(1), { node, type });
      }
    } else {
      parent.children.set(name, { node, type: node.types[0] ?? '' });
    }
  }
  return tree as ElementTree;
}

/** True for an element whose children are declared inline (BackboneElement, Element). */
export function isInline(node: ElementNode): boolean {
  return node.types.length === 1 && INLINE_TYPES.has(node.types[0]!);
}

/** True for FHIR primitive type names (`string`, `dateTime`) and FHIRPath system types. */
export function isPrimitiveType(type: string): boolean {
  return /^[a-z]/.test(type) || type.startsWith('http://hl7.org/fhirpath/');
}

function typeCodes(element: ElementDefinition): string[] {
  return (element.type ?? []).map((t) => {
    const fhirType = t.extension?.find((e) => e.url === FHIR_TYPE_EXTENSION)?.valueUrl;
    return fhirType ?? t.code ?? '';
  });
}
