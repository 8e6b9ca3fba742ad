import type { Resource } from '@medplum/fhirtypes';
import { LruCache } from '../lru';
import type { ValidationResult } from '../validation/validator';
import type { EngineDeps } from './engine';

/** A definition given with a request, interned: its validation and the object to run. */
export interface GivenContent<T> {
  /** The first object seen with this content: every cache keyed by object identity hits for it. */
  readonly value: T;
  readonly validation: ValidationResult;
}

/** Content seen lately, per validator (a few: callers tend to send the same definition every time). */
const seen = new WeakMap<object, LruCache<string, GivenContent<Resource>>>();
const REMEMBERED = 8;

/**
 * Validates a Questionnaire or PlanDefinition given by the caller, and interns it by content.
 * The content is serialised once per request (the key); the validation (a few hundred ms for a large
 * Questionnaire) and every per-object compilation (the Questionnaire model, templates, expressions)
 * are then shared by every request that sends the same content, instead of being redone per request
 * because each request parses a new object. Bounded: the last {@link REMEMBERED} contents per validator.
 * @param given - The caller's definition (already a JSON object).
 * @param deps - The engine (its validator).
 */
export function internGiven<T extends Resource>(given: T, deps: EngineDeps): GivenContent<T> {
  let key: string;
  try {
    key = JSON.stringify(given);
  } catch {
    return { value: given, validation: deps.validator.validate(given) }; // Too deep: the validator refuses it.
  }
  let memo = seen.get(deps.validator);
  if (!memo) {
    memo = new LruCache(REMEMBERED);
    seen.set(deps.validator, memo);
  }
  const known = memo.get(key);
  if (known) {
    return known as GivenContent<T>;
  }
  const interned: GivenContent<T> = { value: given, validation: deps.validator.validate(given) };
  memo.set(key, interned);
  return interned;
}
