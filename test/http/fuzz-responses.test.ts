import type { Questionnaire, QuestionnaireResponse } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { testEngine } from '../helpers/engine';
import type { Operation } from '../helpers/fuzz';
import { answerOf, fuzzParameters, fuzzTimeout, problemsWith } from '../helpers/fuzz';
import type { TestServer } from '../helpers/http';
import { startServer } from '../helpers/http';
import { validReResponse } from '../helpers/re-response-arbitrary';

/**
 * Structure-aware fuzzing: responses valid against the Questionnaire, and the same responses with a few
 * mutations (a member removed, retyped or replaced, an item duplicated or moved, a linkId or code
 * swapped, a hostile key added), against the real app. The properties: never a 5xx; an error is a valid
 * OperationOutcome; a success is a valid output, every resource of it valid against its profiles.
 */

let server: TestServer;
const engine = testEngine();
const validator = engine.validator;
const QUESTIONNAIRE = engine.registry.resolve<Questionnaire>(
  'http://re-fhir.org/fhir/Questionnaire/re-evaluation|0.1.0',
  'Questionnaire'
)!;

beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());
let logged = 0;
beforeEach(() => {
  logged = server.logs.length;
});
afterEach(() => {
  // A 5xx is also logged as a server error: none may appear.
  expect(server.logs.slice(logged).filter((l) => Number(l.level) >= 50)).toEqual([]);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

type Json = Record<string, unknown>;
type Path = (string | number)[];

/** Every linkId of the Questionnaire, to swap in. */
const LINK_IDS: string[] = [];
(function collect(items: unknown): void {
  for (const item of (items ?? []) as { linkId: string; item?: unknown }[]) {
    LINK_IDS.push(item.linkId);
    collect(item.item);
  }
})(QUESTIONNAIRE.item);

/** Paths to every value in a JSON tree (the root excluded), in document order. */
function paths(value: unknown, at: Path = []): Path[] {
  const inner: Path[] =
    typeof value !== 'object' || value === null
      ? []
      : Array.isArray(value)
        ? value.flatMap((v, i) => paths(v, [...at, i]))
        : Object.entries(value).flatMap(([k, v]) => paths(v, [...at, k]));
  return at.length > 0 ? [at, ...inner] : inner;
}

function parentOf(root: unknown, path: Path): { parent: Json | unknown[]; key: string | number } {
  let parent = root as Json;
  for (const key of path.slice(0, -1)) {
    parent = (parent as Record<string | number, unknown>)[key] as Json;
  }
  return { parent, key: path[path.length - 1]! };
}

function put(parent: Json | unknown[], key: string | number, value: unknown): void {
  Object.defineProperty(parent, key, { value, enumerable: true, writable: true, configurable: true });
}

/** One mutation, chosen and placed by numbers so that fast-check can shrink it. */
interface Mutation {
  readonly at: number;
  readonly kind:
    | 'remove'
    | 'replace'
    | 'retype'
    | 'duplicate'
    | 'empty'
    | 'add-key'
    | 'swap-linkid'
    | 'swap-string'
    | 'move-up';
  readonly value: unknown;
  readonly key: string;
  readonly pick: number;
  readonly text: string;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  kind: fc.constantFrom(
    'remove',
    'replace',
    'retype',
    'duplicate',
    'empty',
    'add-key',
    'swap-linkid',
    'swap-string',
    'move-up'
  ),
  value: fc.jsonValue({ maxDepth: 2 }),
  key: fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'valueString',
    'valueBoolean',
    'valueCoding',
    'answer',
    'item',
    'linkId',
    'extension',
    'id',
    'text',
    'definition',
    'resourceType'
  ),
  pick: fc.nat(),
  text: fc.oneof(
    fc.constantFrom(
      "') or true or ('",
      '%resource.descendants()',
      '(a+)+$',
      'completed',
      'amended',
      'entered-in-error',
      'http://re-fhir.org/fhir/Questionnaire/re-evaluation|0.2.0',
      'Patient/other',
      '',
      ' ',
      '\u0000',
      '\ud800'
    ),
    fc.string({ maxLength: 20 }),
    fc.string({ unit: 'grapheme', maxLength: 10 })
  ),
});

function retyped(value: unknown): unknown {
  if (typeof value === 'boolean') {
    return value ? 'true' : 0;
  }
  if (typeof value === 'number') {
    return String(value);
  }
  if (typeof value === 'string') {
    return value.length > 0 && !Number.isNaN(Number(value)) ? Number(value) : [value];
  }
  if (Array.isArray(value)) {
    return value[0] ?? null;
  }
  return value === null ? {} : [value];
}

/** Applies mutations to a copy of a response; a mutation that does not apply leaves it unchanged. */
function mutate(response: QuestionnaireResponse, mutations: readonly Mutation[]): unknown {
  const root = structuredClone(response) as unknown as Json;
  for (const m of mutations) {
    const all = paths(root);
    if (all.length === 0) {
      continue;
    }
    const path = all[m.at % all.length]!;
    const { parent, key } = parentOf(root, path);
    const current = (parent as Record<string | number, unknown>)[key];
    switch (m.kind) {
      case 'remove':
        if (Array.isArray(parent)) {
          parent.splice(key as number, 1);
        } else {
          Reflect.deleteProperty(parent, key);
        }
        break;
      case 'replace':
        put(parent, key, m.value);
        break;
      case 'retype':
        put(parent, key, retyped(current));
        break;
      case 'duplicate':
        if (Array.isArray(parent)) {
          parent.splice(key as number, 0, structuredClone(current));
        }
        break;
      case 'empty':
        put(parent, key, Array.isArray(current) ? [] : typeof current === 'string' ? '' : {});
        break;
      case 'add-key':
        if (typeof current === 'object' && current !== null && !Array.isArray(current)) {
          put(current as Json, m.key, m.value);
        }
        break;
      case 'swap-linkid':
        if (key === 'linkId') {
          put(parent, key, LINK_IDS[m.pick % LINK_IDS.length]);
        }
        break;
      case 'swap-string':
        if (typeof current === 'string') {
          put(parent, key, m.text);
        }
        break;
      case 'move-up': {
        // An item moved one level up: to its grandparent list.
        const grand = path.length >= 3 ? parentOf(root, path.slice(0, -2)).parent : undefined;
        if (Array.isArray(parent) && Array.isArray(grand)) {
          grand.push(...parent.splice(key as number, 1));
        }
        break;
      }
    }
  }
  return root;
}

const OPERATIONS = fc.constantFrom<readonly [string, Operation]>(
  ['QuestionnaireResponse/$re-evaluate', '$re-evaluate'],
  ['QuestionnaireResponse/$re-evaluate', '$re-evaluate'],
  ['QuestionnaireResponse/$extract', '$extract'],
  ['QuestionnaireResponse/$validate', '$validate']
);

function send(path: string, body: unknown): ReturnType<typeof answerOf> {
  return answerOf(`${server.base}/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json' },
    body: JSON.stringify(body),
  });
}

describe('fuzzing the HTTP app with generated QuestionnaireResponses', () => {
  test(
    'a response valid against the Questionnaire is evaluated (200), and every output resource meets its profiles',
    async () => {
      await fc.assert(
        fc.asyncProperty(validReResponse(), async (response) => {
          const answer = await send('QuestionnaireResponse/$re-evaluate', response);
          expect(answer.status).toBe(200);
          expect(problemsWith('$re-evaluate', answer, validator)).toEqual([]);
        }),
        fuzzParameters('validResponses')
      );
    },
    fuzzTimeout('validResponses', 400)
  );

  test(
    'a mutated response gets a valid OperationOutcome or a valid output, never a 5xx',
    async () => {
      const statuses = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(
          validReResponse(),
          fc.array(mutation, { minLength: 1, maxLength: 3 }),
          OPERATIONS,
          async (response, mutations, [path, operation]) => {
            const answer = await send(path, mutate(response, mutations));
            statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
            expect(problemsWith(operation, answer, validator)).toEqual([]);
          }
        ),
        fuzzParameters('mutatedResponses')
      );
      // The mutations reach every layer: some are refused as not FHIR, some break the Questionnaire,
      // and some leave a response that is still processed.
      expect([...statuses.keys()]).toEqual(expect.arrayContaining([200, 400, 422]));
    },
    fuzzTimeout('mutatedResponses', 150)
  );
});
