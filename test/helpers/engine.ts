import type { EngineDeps } from '../../src/core/operations/engine';
import { createNodeEngine } from '../../src/node/engine';
import { counterIds, fixedClock } from './ids';

let base: EngineDeps | undefined;

/**
 * A Node engine with a frozen clock and counter ids, fresh per call (the ids restart at 1) while the
 * expensive parts (definitions, validator, terminology) are shared across a test file.
 */
export function testEngine(clock = fixedClock()): EngineDeps {
  base ??= createNodeEngine({ clock, newId: counterIds() });
  return { ...base, clock, newId: counterIds() };
}
