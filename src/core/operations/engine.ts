import type { StructureDefinition } from '@medplum/fhirtypes';
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
