import type { QuestionnaireResponse } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Evaluation } from '../../../src/core/operations/evaluate';
import { evaluateResponse } from '../../../src/core/operations/evaluate';
import { testEngine } from '../../helpers/engine';
import { validReResponse } from '../../helpers/re-response-arbitrary';

/**
 * The evaluation moves what it builds into the Bundle instead of copying it (`movedEntries`), so these
 * hold what the copies used to guarantee: the Bundle is a tree of its own objects, sharing none with
 * the engine's content, the input or the returned response, and nothing the engine keeps is changed
 * through it (a frozen or scribbled-on Bundle leaves the next evaluation as it was).
 */

const RUNS = Number(process.env.PROPERTY_RUNS ?? 25);
const EXAMPLES = join(__dirname, '../../../profiles/examples');
const examples = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(join(EXAMPLES, f), 'utf8')) as QuestionnaireResponse);

/** Every object and array below `value`, each with the paths it is reachable at. */
function objectsOf(value: unknown, path = '$', found = new Map<object, string[]>()): Map<object, string[]> {
  if (value === null || typeof value !== 'object') {
    return found;
  }
  const paths = found.get(value);
  if (paths) {
    paths.push(path);
    return found;
  }
  found.set(value, [path]);
  for (const [key, child] of Object.entries(value)) {
    objectsOf(child, `${path}.${key}`, found);
  }
  return found;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    Object.values(value).forEach(deepFreeze);
  }
  return value;
}

/** Changes every object and array below `value` in place: a key added, strings and arrays altered. */
function scribble(value: unknown): void {
  if (Array.isArray(value)) {
    value.forEach(scribble);
    value.push('scribbled');
  } else if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      scribble(record[key]);
      if (typeof record[key] === 'string') {
        record[key] = `${record[key] as string}!`;
      }
    }
    record.scribbled = true;
  }
}

describe('the evaluation owns its output', () => {
  const deps = testEngine();
  const content = objectsOf(deps.registry.resources);

  function expectOwnTree(input: QuestionnaireResponse): Evaluation {
    const given = objectsOf(input);
    const evaluation = evaluateResponse(input, { ...deps, newId: testEngine().newId });
    const response = objectsOf(evaluation.response);
    const bundle = objectsOf(evaluation.bundle);
    const twice = [...bundle.values()].filter((paths) => paths.length > 1);
    expect(twice).toEqual([]);
    const foreign = [...bundle].flatMap(([object, [path]]) =>
      content.has(object) || given.has(object) || response.has(object) ? [path] : []
    );
    expect(foreign).toEqual([]);
    // The Conditions and CarePlan returned beside the Bundle are its own entries, not copies.
    const resources = new Set((evaluation.bundle.entry ?? []).map((e) => e.resource));
    for (const r of [...evaluation.conditions, ...(evaluation.carePlan ? [evaluation.carePlan] : [])]) {
      expect(resources.has(r)).toBe(true);
    }
    return evaluation;
  }

  test.each(examples.map((e) => [e.id!, e]))(
    'shipped example %s: the Bundle is a tree of its own objects',
    (_id, example) => {
      const evaluation = expectOwnTree(structuredClone(example));
      expect(evaluation.bundle.entry?.length).toBeGreaterThan(1);
    }
  );

  test('generated responses: the Bundle is a tree of its own objects', () => {
    fc.assert(
      fc.property(validReResponse(), (response) => {
        expectOwnTree(response);
      }),
      { numRuns: RUNS }
    );
  });

  test('a frozen input and a frozen or scribbled-on earlier Bundle leave the next evaluation as it was', () => {
    const contentBefore = JSON.stringify(deps.registry.resources);
    for (const example of examples) {
      const pristine = JSON.stringify(evaluateResponse(structuredClone(example), testEngine()));
      const frozen = deepFreeze(evaluateResponse(deepFreeze(structuredClone(example)), testEngine()));
      expect(JSON.stringify(frozen)).toBe(pristine);
      scribble(evaluateResponse(structuredClone(example), testEngine()));
      expect(JSON.stringify(evaluateResponse(structuredClone(example), testEngine()))).toBe(pristine);
    }
    expect(JSON.stringify(deps.registry.resources)).toBe(contentBefore);
  });
});
