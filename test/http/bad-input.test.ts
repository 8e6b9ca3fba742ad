import type { Bundle, OperationOutcome, QuestionnaireResponse } from '@medplum/fhirtypes';
import fc from 'fast-check';
import type { BadInputCase } from '../helpers/bad-input';
import { escapeXhtml } from '../../src/core/narrative/narrative';
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
  server = await startServer({ newId: () => ids(), inlineDefinitions: true });
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
  test.each(CASES.map((c) => [c.name, c] as const))(
    '%s',
    async (_name, c) => {
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
    },
    30_000
  ); // two evaluations, some of large bodies: jest's 5 s is too tight on a loaded CI machine

  test('nothing was logged as a server error while the corpus ran', () => {
    expect(server.logs.filter((l) => Number(l.level) >= 50)).toEqual([]);
  });
});

describe('injection attempts in free text are carried as data, never evaluated', () => {
  const PAYLOADS = [
    "') or true or ('",
    "%resource.descendants().where(linkId = 'dry-orgasm').answer.value",
    "iif(true, 'confirmed', 'refuted')",
    '${process.exit(1)}',
    '`rm -rf /`',
    '(a+)+$' + 'a'.repeat(40) + '!',
    '.*',
    '<script>alert(1)</script>',
    '{"resourceType":"Patient"}',
    '\u202e\ud83d\ude00 right-to-left',
  ];
  const BASELINE = 'Plain Text';
  const withText = (text: string): QuestionnaireResponse => {
    const qr = example('re-example-turp-tamsulosin');
    return {
      ...qr,
      author: { ...qr.author, display: text },
      subject: { ...qr.subject, display: text },
      identifier: { system: 'urn:oid:1.2.3', value: text },
    };
  };
  /**
   * The value with every occurrence of one string replaced by another, in every string of it, also
   * where a narrative holds it escaped.
   */
  const replaced = (value: unknown, from: string, to: string): unknown =>
    JSON.parse(JSON.stringify(value), (_k, v: unknown) =>
      typeof v === 'string' ? v.split(escapeXhtml(from)).join(escapeXhtml(to)).split(from).join(to) : v
    );

  test('the answer is the plain-text answer with the text in the same places (escaped in narratives)', async () => {
    const baseline = evaluateResponse(withText(BASELINE), testEngine()).bundle;
    expect(JSON.stringify(baseline)).toContain(BASELINE);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.constantFrom(...PAYLOADS), fc.string({ minLength: 1, maxLength: 40 })),
        async (text) => {
          // A FHIR string is not blank and has no control characters (below U+0020 but tab, CR, LF);
          // and the text must be findable where it was put.
          fc.pre(
            text.trim() === text &&
              text !== '' &&
              ![...text].some((c) => c < ' ' && !'\t\r\n'.includes(c)) &&
              !JSON.stringify(baseline).includes(text) &&
              !JSON.stringify(baseline).includes(escapeXhtml(text))
          );
          ids = counterIds();
          const res = await post<Bundle>(`${server.base}/QuestionnaireResponse/$re-evaluate`, withText(text));
          expect(res.status).toBe(200);
          expect(replaced(res.body, text, BASELINE)).toEqual(baseline);
        }
      ),
      { numRuns: 40 }
    );
  }, 120_000);
});

describe('a $expand filter is text, never a regular expression', () => {
  test.each([
    ['.*', 0],
    ['(a+)+$', 0],
    ['[a-z]', 0],
    ['osin', 6],
  ])('filter=%s matches %i codes', async (filter, total) => {
    const url = `${server.base}/ValueSet/$expand?url=http://re-fhir.org/fhir/ValueSet/re-alpha-blockers&filter=${encodeURIComponent(filter)}`;
    const res = await fetch(url);
    const body = (await res.json()) as { expansion?: { total?: number } };
    expect({ status: res.status, total: body.expansion?.total }).toEqual({ status: 200, total });
  });
});
