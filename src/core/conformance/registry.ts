import type { Resource } from '@medplum/fhirtypes';
import { CONTENT } from './content';

/** A resource that has a canonical URL (Questionnaire, PlanDefinition, ValueSet, ...). */
export type CanonicalResource = Resource & { url: string; version?: string };

/**
 * Read-only index of conformance resources by canonical (`url` or `url|version`) and by `Type/id`.
 * The default registry holds the shipped content; callers may build one over other resources.
 */
export class ConformanceRegistry {
  private readonly byCanonical = new Map<string, CanonicalResource[]>();
  private readonly byId = new Map<string, Resource>();
  /**
   * What {@link resolve} found for a canonical without a type. The index never changes after the
   * constructor, so an answer stays true; only hits are kept, so the keys are bounded by the content
   * (each url, bare or with one of its versions).
   */
  private readonly found = new Map<string, CanonicalResource>();

  constructor(readonly resources: readonly Resource[]) {
    for (const resource of resources) {
      if (resource.id) {
        this.byId.set(`${resource.resourceType}/${resource.id}`, resource);
      }
      const url = (resource as Partial<CanonicalResource>).url;
      if (typeof url === 'string') {
        const list = this.byCanonical.get(url) ?? [];
        list.push(resource as CanonicalResource);
        this.byCanonical.set(url, list);
      }
    }
    // Highest version first, once (a stable sort: equal versions keep their order), not per look-up.
    for (const list of this.byCanonical.values()) {
      list.sort((a, b) => compareVersions(b.version, a.version));
    }
  }

  /**
   * Resolves `url` or `url|version`. Without a version, the highest version wins
   * (compared segment by segment, numerically where both segments are numbers).
   */
  resolve<T extends Resource = CanonicalResource>(
    canonical: string,
    resourceType?: T['resourceType']
  ): T | undefined {
    let found = this.found.get(canonical);
    if (found === undefined) {
      found = this.lookUp(canonical, undefined);
      if (found === undefined) {
        // No candidate of any type, so none of the one asked for.
        return undefined;
      }
      this.found.set(canonical, found);
    }
    // The first candidate of any type is also the first of its own type; another type searches again.
    return !resourceType || found.resourceType === resourceType
      ? (found as unknown as T)
      : this.lookUp<T>(canonical, resourceType);
  }

  private lookUp<T extends Resource = CanonicalResource>(
    canonical: string,
    resourceType: T['resourceType'] | undefined
  ): T | undefined {
    const [url, version] = splitCanonical(canonical);
    const candidates = this.byCanonical.get(url);
    if (!candidates) {
      return undefined;
    }
    for (const r of candidates) {
      if (
        (!resourceType || r.resourceType === resourceType) &&
        (version === undefined || r.version === version)
      ) {
        return r as unknown as T;
      }
    }
    return undefined;
  }

  /** Reads by logical id. */
  read<T extends Resource>(resourceType: T['resourceType'], id: string): T | undefined {
    return this.byId.get(`${resourceType}/${id}`) as T | undefined;
  }

  /** All resources of one type. */
  ofType<T extends Resource>(resourceType: T['resourceType']): T[] {
    return this.resources.filter((r) => r.resourceType === resourceType) as T[];
  }
}

/** Splits `url|version` into its parts. */
export function splitCanonical(canonical: string): [string, string | undefined] {
  const bar = canonical.indexOf('|');
  return bar < 0 ? [canonical, undefined] : [canonical.slice(0, bar), canonical.slice(bar + 1)];
}

function compareVersions(a = '', b = ''): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    const nx = Number(x);
    const ny = Number(y);
    const diff =
      Number.isInteger(nx) && Number.isInteger(ny) && x !== '' && y !== '' ? nx - ny : x.localeCompare(y);
    if (diff !== 0) {
      return diff;
    }
  }
  return 0;
}

let shipped: ConformanceRegistry | undefined;

/** The registry of the shipped content, built once. */
export function shippedRegistry(): ConformanceRegistry {
  shipped ??= new ConformanceRegistry(CONTENT);
  return shipped;
}
