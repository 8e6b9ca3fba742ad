import { createHash } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import type { ConformanceRegistry } from '../core/conformance/registry';

/** The conformance resource types served for read and search. */
export const CONFORMANCE_TYPES = [
  'ActivityDefinition',
  'CodeSystem',
  'ConceptMap',
  'Library',
  'OperationDefinition',
  'PlanDefinition',
  'Questionnaire',
  'StructureDefinition',
  'ValueSet',
] as const;

/** One served resource with its HTTP validators. */
export interface ServedResource {
  /** The resource with `meta.versionId` and `meta.lastUpdated` set by this server. */
  readonly resource: Resource;
  /** `W/"{versionId}"`. */
  readonly etag: string;
  /** HTTP date of `meta.lastUpdated`, when known. */
  readonly lastModified?: string;
}

/**
 * The registry's resources as this server serves them. The shipped content carries no server metadata,
 * so each copy gets `meta.versionId` = a hash of its content (it changes exactly when the content does,
 * which is what ETags need) and `meta.lastUpdated` = the artefact's `date` (its publication date).
 * The registry's own objects are never modified.
 * See: https://hl7.org/fhir/R4/http.html#read (ETag, Last-Modified)
 */
export class ServedContent {
  private readonly byId = new Map<string, ServedResource>();
  private readonly byType = new Map<string, ServedResource[]>();

  /** @param registry - The conformance content. */
  constructor(registry: ConformanceRegistry) {
    const served = new Set<string>(CONFORMANCE_TYPES);
    for (const original of registry.resources) {
      if (!served.has(original.resourceType) || !original.id) {
        continue;
      }
      const versionId = createHash('sha256').update(JSON.stringify(original)).digest('hex').slice(0, 16);
      const lastUpdated = instantOf((original as { date?: string }).date);
      const resource = {
        ...original,
        meta: { ...original.meta, versionId, ...(lastUpdated ? { lastUpdated } : {}) },
      } as Resource;
      const entry: ServedResource = {
        resource,
        etag: `W/"${versionId}"`,
        lastModified: lastUpdated ? new Date(lastUpdated).toUTCString() : undefined,
      };
      this.byId.set(`${original.resourceType}/${original.id}`, entry);
      const list = this.byType.get(original.resourceType) ?? [];
      list.push(entry);
      this.byType.set(original.resourceType, list);
    }
  }

  /**
   * One resource by type and id.
   * @param type - Resource type.
   * @param id - Logical id.
   */
  read(type: string, id: string): ServedResource | undefined {
    return this.byId.get(`${type}/${id}`);
  }

  /**
   * Every served resource of a type, in registry order.
   * @param type - Resource type.
   */
  ofType(type: string): readonly ServedResource[] {
    return this.byType.get(type) ?? [];
  }
}

/** A FHIR date or dateTime as an instant (a date alone is taken as midnight UTC). */
function instantOf(date: string | undefined): string | undefined {
  if (!date) {
    return undefined;
  }
  const value = /^\d{4}-\d{2}-\d{2}$/.test(date) ? `${date}T00:00:00Z` : date;
  const parsed = new Date(value);
  return Number.isNaN(parsed.getTime()) ? undefined : parsed.toISOString();
}
