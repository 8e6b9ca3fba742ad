import { shippedRegistry } from '../conformance/registry';
import { shippedTerminology } from '../terminology';
import type { Clock, IdGenerator } from '../types';
import type { DefinitionProvider } from '../validation/definitions';
import type { TerminologyLookup } from '../validation/enumerated-valuesets';
import { createEnumeratedMembership, firstKnown } from '../validation/enumerated-valuesets';
import type { FhirJsonSchema } from '../validation/schema';
import { createValidator } from '../validation/validator';
import type { EngineDeps } from './engine';
import { profilesOf } from './engine';

/** What the host loads for the engine: the hosts (Node, the Medplum bot) differ only in these. */
export interface EngineHost {
  /** Base R4 StructureDefinitions. */
  readonly definitions: DefinitionProvider;
  /** The R4 ValueSets and CodeSystems, for required bindings our own terminology does not cover. */
  readonly r4Terminology: TerminologyLookup;
  /** The official R4 JSON schema; absent, the schema tier is off. */
  readonly schema?: FhirJsonSchema;
  readonly clock: Clock;
  readonly newId: IdGenerator;
}

/**
 * The engine over the shipped content and terminology: every validation tier the host's inputs allow,
 * with bindings checked against our terminology first, then the R4 one.
 * @param host - What the host loaded.
 */
export function shippedEngine(host: EngineHost): EngineDeps {
  const registry = shippedRegistry();
  const terminology = shippedTerminology();
  const validator = createValidator({
    definitions: host.definitions,
    schema: host.schema,
    profiles: profilesOf(registry),
    memberOf: firstKnown(
      (valueSet, system, code) => terminology.memberOf(valueSet, system ?? '', code),
      createEnumeratedMembership(host.r4Terminology)
    ),
  });
  return { registry, terminology, validator, clock: host.clock, newId: host.newId };
}
