import type { PlanDefinition, Questionnaire, Resource } from '@medplum/fhirtypes';
import { copyJson } from '../json';
import type { ValidationResult } from '../validation/validator';
import type { EngineDeps } from './engine';
import { isShipped } from './engine';
import type { ContentSnapshot } from './json-content';
import { contentFingerprint, contentSnapshot, matchesSnapshot } from './json-content';

/** A definition given with a request, interned: its validation and the object to run. */
export interface GivenContent<T> {
  /**
   * The object to run: one per distinct content, so every cache keyed by object identity (the
   * Questionnaire model, templates, expressions) hits for it. A private copy of the first request's
   * definition (the caller may change its own object later), or the registry's object when given.
   */
  readonly value: T;
  readonly validation: ValidationResult;
}

interface Interned {
  readonly fingerprint: number;
  readonly content: GivenContent<Resource>;
  /** The content as interned, which a definition given later must equal exactly. */
  readonly snapshot: ContentSnapshot;
}

/** Contents seen lately, per validator, most recent first (callers tend to send the same one). */
const seen = new WeakMap<object, Interned[]>();
const REMEMBERED = 8;

/**
 * Validates a Questionnaire or PlanDefinition given by the caller, and interns it by content. The
 * validation (a few hundred ms for a large Questionnaire) and every per-object compilation are then
 * shared by every request that sends the same content, instead of being redone per request because
 * each request parses a new object. Finding it costs one walk of the definition when it is the content
 * sent last (an exact comparison with a snapshot of the remembered content, which walks the given
 * definition only), else two (a fingerprint, then the comparison with the remembered contents of that
 * fingerprint); never its JSON text.
 * Different contents never share an entry: a fingerprint match counts only when the contents are
 * equal. Bounded: the last {@link REMEMBERED} contents per validator. A definition that is not plain
 * JSON (undefined values, Dates, too deep) is validated as given, every time.
 * @param given - The caller's definition (already a JSON object).
 * @param deps - The engine (its validator).
 */
export function internGiven<T extends Resource>(given: T, deps: EngineDeps): GivenContent<T> {
  let memo = seen.get(deps.validator);
  if (!memo) {
    memo = [];
    seen.set(deps.validator, memo);
  }
  // The content sent last, most often sent again: one comparison, no fingerprint.
  if (memo.length > 0 && matchesSnapshot(memo[0]!.snapshot, given)) {
    return memo[0]!.content as GivenContent<T>;
  }
  const fingerprint = contentFingerprint(given);
  if (fingerprint === undefined) {
    return { value: given, validation: deps.validator.validate(given) };
  }
  for (let i = 1; i < memo.length; i++) {
    const entry = memo[i]!;
    if (entry.fingerprint === fingerprint && matchesSnapshot(entry.snapshot, given)) {
      memo.splice(i, 1);
      memo.unshift(entry);
      return entry.content as GivenContent<T>;
    }
  }
  // The registry's own object is ours and stays as it is (it marks shipped content, see isShipped).
  const value = isShipped(given as Resource as Questionnaire | PlanDefinition, deps)
    ? given
    : copyJson(given);
  const content: GivenContent<T> = { value, validation: deps.validator.validate(value) };
  memo.unshift({ fingerprint, content, snapshot: contentSnapshot(value) });
  if (memo.length > REMEMBERED) {
    memo.pop();
  }
  return content;
}
