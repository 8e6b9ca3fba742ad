import type { Resource } from '@medplum/fhirtypes';
import { ConformanceRegistry } from '../../../src/core/conformance/registry';
import type { ApplyDeps } from '../../../src/core/plan';
import type { Clock, IdGenerator } from '../../../src/core/types';

/** The instant every test plan is created at. */
export const NOW = '2026-11-27T10:00:00.000Z';

/** A clock stopped at {@link NOW}. */
export const fixedClock: Clock = () => new Date(NOW);

/** UUIDs 00000000-0000-4000-8000-000000000001, …02, … in call order. */
export function counterIds(): IdGenerator {
  let n = 0;
  return () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
}

/** The n-th id {@link counterIds} hands out. */
export function nthId(n: number): string {
  return `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
}

/** Deps over a registry of the given resources, with a fixed clock and counter ids. */
export function depsOver(resources: readonly Resource[]): ApplyDeps {
  const registry = new ConformanceRegistry(resources);
  return { resolve: (canonical) => registry.resolve(canonical), clock: fixedClock, newId: counterIds() };
}

/** A FHIRPath Expression element. */
export function fhirpath(expression: string): { language: 'text/fhirpath'; expression: string } {
  return { language: 'text/fhirpath', expression };
}
