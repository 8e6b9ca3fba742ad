import type { Bundle, OperationOutcome, QuestionnaireResponse } from '@medplum/fhirtypes';
import type { BadInputCase } from '../helpers/bad-input';
import { evaluateResponse } from '../../src/core/operations/evaluate';
import { badInputCases, buildBody, example } from '../helpers/bad-input';
import { testEngine } from '../helpers/engine';
import type { JsonResponse, TestServer } from '../helpers/http';
import { expectFirstError, post, startServer } from '../helpers/http';
import { counterIds } from '../helpers/ids';
import { scenarios } from '../helpers/scenarios';

const CASES = badInputCases();
const VALID = scenarios().find((s) => s.name === 'no-findings')!.response as QuestionnaireResponse;
const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype).sort();

let server: TestServer;
let ids = counterIds();
const validator = testEngine().validator;

beforeAll(async () => {
  // Ids restart for every case, so a tolerated input's answer compares with a fresh library evaluation.
  server = await startServer({ newId: () => ids() });
});
beforeEach(() => {
  ids = counterIds();
});
afterAll(() => server.close());

/** Sends a case as it is written: its method, path, headers and exact body bytes. */
async function send(c: BadInputCase): Promise<JsonResponse<unknown>> {
  // An empty header value in a case means: do not send that header at all.
  const headers = Object.fromEntries(
    Object.entries({ ...(c.body ? { 'content-type': 'application/fhir+json' } : {}), ...c.headers }).filter(
      ([, value]) => value !== ''
    )
  );
  const res = await fetch(`${server.base}/${c.path}`, {
    method: c.method ?? 'POST',
    headers,
    body: c.body ? buildBody(c.body) : undefined,
  });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, headers: res.headers, body, text };
}

describe('the bad-input corpus (test/fixtures/bad-input)', () => {
  test('has at least 60 cases answered with a 4xx, across the categories of issue 7', () => {
    expect(
      CASES.filter((c) => c.expect.status >= 400 && c.expect.status < 500).length
    ).toBeGreaterThanOrEqual(60);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
    expect([...new Set(CASES.map((c) => c.category))].sort()).toEqual([
      'breaks-the-questionnaire',
      'encoding',
      'fhir-json-rules',
      'injection',
      'malformed-json',
      'media-type',
      'not-a-resource',
      'other-fhir-version',
      'parameters',
      'prototype-pollution',
      'questionnaire-reference',
      'size-and-depth',
      'wrong-resource-type',
    ]);
    expect(new Set(CASES.map((c) => c.expect.status))).toEqual(new Set([200, 400, 404, 406, 413, 415, 422]));
  });

  test('a library expectation agrees with the HTTP status of its failure kind', () => {
    const status: Record<string, number> = { structural: 400, conformance: 422, 'not-found': 404 };
    for (const c of CASES.filter((x) => x.expect.library)) {
      expect({ name: c.name, status: status[c.expect.library!.kind] }).toEqual({
        name: c.name,
        status: c.expect.status,
      });
    }
  });
});

describe('every case over HTTP: the expected status and OperationOutcome, and the server carries on', () => {
  test.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const res = await send(c);
    if (c.expect.status < 300) {
      expect(res.status).toBe(c.expect.status);
      expect(res.body).toEqual(evaluateResponse(example(c.expect.sameAs!), testEngine()).bundle);
    } else {
      expectFirstError(res, c.expect.status, c.expect.code!);
      const checked = validator.validate(res.body);
      expect(checked.issues.filter((i) => i.severity === 'error')).toEqual([]);
      // Only a 500 would carry no details; every client error says what is wrong.
      expect((res.body as OperationOutcome).issue.every((i) => typeof i.details?.text === 'string')).toBe(
        true
      );
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PROTOTYPE_KEYS);

    ids = counterIds();
    const next = await post<Bundle>(`${server.base}/QuestionnaireResponse/$re-evaluate`, VALID);
    expect({ status: next.status, type: next.body.type }).toEqual({ status: 200, type: 'transaction' });
  });

  test('nothing was logged as a server error while the corpus ran', () => {
    expect(server.logs.filter((l) => Number(l.level) >= 50)).toEqual([]);
  });
});
