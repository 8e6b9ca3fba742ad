import type { CodeSystem, ConceptMap, Resource, ValueSet } from '@medplum/fhirtypes';
import { ConformanceRegistry } from '../conformance/registry';

/**
 * Where the terminology operations find definitions. Implementations resolve canonicals
 * (`url` or `url|version`); without a version they return the highest version.
 */
export interface TerminologySource {
  /**
   * Resolves a ValueSet canonical.
   * @param canonical - `url` or `url|version`
   */
  valueSet(canonical: string): ValueSet | undefined;
  /**
   * Resolves a code system by its system URI.
   * @param system - the code system URI (`CodeSystem.url`, `Coding.system`)
   * @param version - a specific version; absent means the highest version known
   */
  codeSystem(system: string, version?: string): CodeSystem | undefined;
  /**
   * Resolves a ConceptMap canonical.
   * @param canonical - `url` or `url|version`
   */
  conceptMap(canonical: string): ConceptMap | undefined;
}

/**
 * A {@link TerminologySource} over a {@link ConformanceRegistry}, or over any list of resources
 * (a registry is built for the list).
 * @param source - the registry, or the resources to index
 */
export function terminologySource(source: ConformanceRegistry | readonly Resource[]): TerminologySource {
  const registry = source instanceof ConformanceRegistry ? source : new ConformanceRegistry(source);
  return {
    valueSet: (canonical) => registry.resolve<ValueSet>(canonical, 'ValueSet'),
    codeSystem: (system, version) =>
      registry.resolve<CodeSystem>(version === undefined ? system : `${system}|${version}`, 'CodeSystem'),
    conceptMap: (canonical) => registry.resolve<ConceptMap>(canonical, 'ConceptMap'),
  };
}

/**
 * `url|version` of a canonical resource (just `url` when it has no version), for messages and cache keys.
 * @param resource - a resource with a canonical URL
 */
export function canonicalOf(resource: { url?: string; version?: string }): string | undefined {
  if (resource.url === undefined) {
    return undefined;
  }
  return resource.version === undefined ? resource.url : `${resource.url}|${resource.version}`;
}
