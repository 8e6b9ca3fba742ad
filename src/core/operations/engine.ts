import type { PlanDefinition, Questionnaire, StructureDefinition } from '@medplum/fhirtypes';
import type { ConformanceRegistry } from '../conformance/registry';
import type { Terminology } from '../terminology';
import type { Clock, IdGenerator } from '../types';
import type { Validator } from '../validation/validator';

/**
 * Everything the operations need, injected so that the core stays pure: the conformance content,
 * terminology over it, a validator, a clock and an id generator. `src/node/engine.ts` builds the
 * default for Node; the Medplum bot builds its own.
 */
export interface EngineDeps {
  readonly registry: ConformanceRegistry;
  readonly terminology: Terminology;
  readonly validator: Validator;
  readonly clock: Clock;
  readonly newId: IdGenerator;
}

/** The StructureDefinitions of a registry, for the validator's profiles. */
export function profilesOf(registry: ConformanceRegistry): StructureDefinition[] {
  return registry.ofType<StructureDefinition>('StructureDefinition');
}

/**
 * True when the definition is the registry's own copy: then faults in what it produces are ours
 * (`internal`), otherwise the caller's (`conformance`).
 */
export function isShipped(definition: Questionnaire | PlanDefinition, deps: EngineDeps): boolean {
  return (
    definition.url !== undefined &&
    deps.registry.resolve(`${definition.url}|${definition.version}`) === definition
  );
}

/** Who is to blame for invalid output of a definition: us for shipped content, else the caller. */
export function blameFor(
  definition: Questionnaire | PlanDefinition,
  deps: EngineDeps
): 'internal' | 'conformance' {
  return isShipped(definition, deps) ? 'internal' : 'conformance';
}
