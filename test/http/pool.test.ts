import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import pino from 'pino';
import { HttpError } from '../../src/http/errors';
import { WorkerPool } from '../../src/http/pool/pool';
import { MIN_WORKER_HEAP_MB } from '../../src/http/config';
import { inProcessRunner } from '../../src/http/pool/runner';
import { ReFhirError } from '../../src/core/outcomes';
import { MANAGEMENT_PATHWAY, QUESTIONNAIRE_CANONICAL } from '../../src/core/constants';
import { inlineCodeSystemParameters, responseWithContained } from '../helpers/adversarial';
import { example } from '../helpers/bad-input';
import { testEngine } from '../helpers/engine';
import type { TestServer } from '../helpers/http';
import { post, request, startServer } from '../helpers/http';

const quiet = pino({ level: 'silent' });
const WARM = ['QuestionnaireResponse'];

/** Ids and instants differ between engines (random UUIDs, the clock): the rest must not. */
function normalised(bundle: Bundle): unknown {
  return JSON.parse(
    JSON.stringify(bundle)
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'ID')
      .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)/g, 'INSTANT')
      .replace(/\d{4}-\d\d-\d\d/g, 'DATE')
  );
}

/** As {@link normalised}, on the text itself (so that its layout is compared too). */
function normalisedText(text: string): string {
  return text
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'ID')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)/g, 'INSTANT')
    .replace(/\d{4}-\d\d-\d\d/g, 'DATE');
}

describe('WorkerPool', () => {
  let pool: WorkerPool;
  beforeAll(async () => {
    pool = new WorkerPool({ size: 1, queueLimit: 1, budgetMs: 600_000, warmTypes: WARM, logger: quiet });
    await pool.ready();
  }, 120_000);
  afterAll(() => pool.close());

  test('a worker evaluates as the library does in this thread', async () => {
    const response = example('re-example-diabetic-confirmed');
    const inWorker = await pool.run({ op: 're-evaluate', response, options: {} });
    const here = await inProcessRunner(testEngine()).run({ op: 're-evaluate', response, options: {} });
    expect(inWorker.bundle.entry?.length).toBeGreaterThan(5);
    expect(normalised(inWorker.bundle)).toEqual(normalised(here.bundle));
    expect(inWorker.issues).toEqual(here.issues);
  }, 60_000);

  test('an evaluation asked for as bytes arrives as the body the object would have given, with its log counts', async () => {
    for (const name of ['re-example-diabetic-confirmed', 're-example-anejaculation']) {
      const response = example(name);
      for (const pretty of [false, true]) {
        const encoded = await pool.run({ op: 're-evaluate', response, options: {}, encode: { pretty } });
        const object = await pool.run({ op: 're-evaluate', response, options: {} });
        const here = await inProcessRunner(testEngine()).run({
          op: 're-evaluate',
          response,
          options: {},
          encode: { pretty },
        });
        const text = Buffer.from(encoded.json).toString('utf8');
        // Whole text, indentation included; ids and instants differ between the engines.
        expect(normalisedText(text)).toBe(normalisedText(Buffer.from(here.json).toString('utf8')));
        expect(normalisedText(text)).toBe(
          normalisedText(pretty ? JSON.stringify(object.bundle, null, 2) : JSON.stringify(object.bundle))
        );
        expect({ entries: encoded.entries, warnings: encoded.warnings }).toEqual({
          entries: object.bundle.entry!.length,
          warnings: object.issues.filter((i) => i.severity === 'warning').length,
        });
        expect({ entries: here.entries, warnings: here.warnings }).toEqual({
          entries: encoded.entries,
          warnings: encoded.warnings,
        });
      }
    }
  }, 60_000);

  test('an engine failure of an evaluation asked for as bytes crosses as it does for the object', async () => {
    const bad = { ...example('re-example-turp-tamsulosin'), status: 'bogus' };
    const encoded = await pool
      .run({ op: 're-evaluate', response: bad, options: {}, encode: { pretty: false } })
      .catch((err: unknown) => err);
    const object = await pool
      .run({ op: 're-evaluate', response: bad, options: {} })
      .catch((err: unknown) => err);
    expect(encoded).toBeInstanceOf(ReFhirError);
    expect({ kind: (encoded as ReFhirError).kind, outcome: (encoded as ReFhirError).outcome }).toEqual({
      kind: (object as ReFhirError).kind,
      outcome: (object as ReFhirError).outcome,
    });
  }, 60_000);

  test("an engine failure crosses as the engine's error, with its kind and outcome", async () => {
    const bad = { ...example('re-example-diabetic-confirmed'), status: 'bogus' };
    const here = await inProcessRunner(testEngine())
      .run({ op: 're-evaluate', response: bad, options: {} })
      .catch((err: unknown) => err);
    const there = await pool
      .run({ op: 're-evaluate', response: bad, options: {} })
      .catch((err: unknown) => err);
    expect(here).toBeInstanceOf(ReFhirError);
    expect(there).toBeInstanceOf(ReFhirError);
    expect({ kind: (there as ReFhirError).kind, outcome: (there as ReFhirError).outcome }).toEqual({
      kind: (here as ReFhirError).kind,
      outcome: (here as ReFhirError).outcome,
    });
  }, 60_000);

  test('the queue is bounded: past it, 503 with Retry-After at once, never a wait', async () => {
    const response = example('re-example-turp-tamsulosin');
    // The only worker takes the first task at once, the queue holds one, the third is refused.
    const first = pool.run({ op: 're-evaluate', response, options: {} });
    const second = pool.run({ op: 're-evaluate', response, options: {} });
    expect(pool.stats()).toEqual({ size: 1, busy: 1, queued: 1 });
    const third = await pool.run({ op: 're-evaluate', response, options: {} }).catch((err: unknown) => err);
    expect(third).toBeInstanceOf(HttpError);
    expect((third as HttpError).status).toBe(503);
    expect((third as HttpError).headers).toEqual({ 'Retry-After': '1' });
    expect((third as HttpError).outcome.issue?.[0]).toMatchObject({ severity: 'error', code: 'throttled' });
    // The accepted ones complete.
    expect((await first).bundle.type).toBe('transaction');
    expect((await second).bundle.type).toBe('transaction');
  }, 60_000);

  test('a queued task whose client has gone is dropped', async () => {
    const response = example('re-example-turp-tamsulosin');
    const first = pool.run({ op: 're-evaluate', response, options: {} });
    const client = new AbortController();
    const second = pool.run({ op: 're-evaluate', response, options: {} }, client.signal);
    client.abort();
    expect(pool.stats().queued).toBe(0);
    await expect(second).rejects.toMatchObject({ status: 499 });
    expect((await first).bundle.type).toBe('transaction');
  }, 60_000);
});

describe('the CPU budget', () => {
  test('a task past its budget is abandoned with 503 too-costly; the worker is replaced and serves again', async () => {
    const logs: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => void logs.push(JSON.parse(l)) });
    // A budget of 1 ms against an input that costs far more: no wall-clock assumption about the machine.
    const pool = new WorkerPool({ size: 1, queueLimit: 4, budgetMs: 1, warmTypes: WARM, logger });
    try {
      await pool.ready();
      const err = await pool
        .run({ op: 'validate', resource: responseWithContained(100_000) })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HttpError);
      expect((err as HttpError).status).toBe(503);
      const outcome: OperationOutcome = (err as HttpError).outcome;
      expect(outcome.issue?.[0]).toMatchObject({ severity: 'error', code: 'too-costly' });
      expect(outcome.issue?.[0]?.details?.text).toContain('1 ms');
      expect(logs).toContainEqual(
        expect.objectContaining({
          msg: 'task over its budget: worker terminated and replaced',
          op: 'validate',
        })
      );
      // A new worker took its place.
      await pool.ready();
      expect(pool.stats()).toEqual({ size: 1, busy: 0, queued: 0 });
    } finally {
      await pool.close();
    }
  }, 120_000);
});

describe('over HTTP, every pooled operation answers as it does in the request thread', () => {
  let pool: WorkerPool;
  let pooled: TestServer;
  let inThread: TestServer;

  beforeAll(async () => {
    pool = new WorkerPool({ size: 1, queueLimit: 8, budgetMs: 600_000, warmTypes: WARM, logger: quiet });
    await pool.ready();
    pooled = await startServer({ tasks: pool, inlineDefinitions: true, logLevel: 'silent' });
    inThread = await startServer({ inlineDefinitions: true, logLevel: 'silent' });
  }, 120_000);
  afterAll(async () => {
    await pooled?.close();
    await inThread?.close();
    await pool?.close();
  });

  const response = example('re-example-turp-tamsulosin');
  const subject = { name: 'subject', valueString: response.subject!.reference! };
  const cases: [string, string, unknown][] = [
    ['$re-evaluate', '/QuestionnaireResponse/$re-evaluate', response],
    [
      '$re-evaluate of an invalid response',
      '/QuestionnaireResponse/$re-evaluate',
      { ...response, status: 'x' },
    ],
    // Its body goes to the worker as bytes (transferred) and is parsed there: content given inline, and
    // a body that is not JSON, answer as in the request thread.
    [
      '$re-evaluate with the shipped Questionnaire inline',
      '/QuestionnaireResponse/$re-evaluate',
      {
        resourceType: 'Parameters',
        parameter: [
          { name: 'questionnaire-response', resource: response },
          {
            name: 'questionnaire',
            resource: testEngine().registry.resolve(QUESTIONNAIRE_CANONICAL, 'Questionnaire'),
          },
        ],
      },
    ],
    ['$re-evaluate of a body that is not JSON', '/QuestionnaireResponse/$re-evaluate', '{"resourceType":'],
    [
      '$extract',
      '/QuestionnaireResponse/$extract',
      { resourceType: 'Parameters', parameter: [{ name: 'questionnaire-response', resource: response }] },
    ],
    ['$validate', '/QuestionnaireResponse/$validate', { ...response, status: 'x' }],
    [
      '$apply by url',
      '/PlanDefinition/$apply',
      { resourceType: 'Parameters', parameter: [subject, { name: 'url', valueUri: MANAGEMENT_PATHWAY }] },
    ],
    [
      '$apply with a data Bundle that is not valid FHIR',
      '/PlanDefinition/$apply',
      {
        resourceType: 'Parameters',
        parameter: [
          subject,
          { name: 'url', valueUri: MANAGEMENT_PATHWAY },
          { name: 'data', resource: { resourceType: 'Bundle', type: 7 } },
        ],
      },
    ],
    [
      'ValueSet/$expand of an inline ValueSet',
      '/ValueSet/$expand',
      {
        resourceType: 'Parameters',
        parameter: [
          {
            name: 'valueSet',
            resource: {
              resourceType: 'ValueSet',
              status: 'active',
              compose: {
                include: [{ system: 'http://example.org/cs', concept: [{ code: 'a' }, { code: 'b' }] }],
              },
            },
          },
        ],
      },
    ],
    [
      'CodeSystem/$validate-code of an inline CodeSystem',
      '/CodeSystem/$validate-code',
      inlineCodeSystemParameters(2_000),
    ],
  ];

  test('$re-evaluate with _pretty=true: the same text, indentation included', async () => {
    const path = '/QuestionnaireResponse/$re-evaluate?_pretty=true';
    const there = await post(`${pooled.base}${path}`, response);
    const here = await post(`${inThread.base}${path}`, response);
    expect(there.status).toBe(200);
    expect(there.text).toContain('\n  "type": "transaction"');
    expect(normalisedText(there.text)).toBe(normalisedText(here.text));
    expect(there.headers.get('content-type')).toBe(here.headers.get('content-type'));
  }, 60_000);

  test.each(cases)(
    '%s',
    async (_name, path, body) => {
      const there = await post(`${pooled.base}${path}`, body);
      const here = await post(`${inThread.base}${path}`, body);
      expect(there.status).toBe(here.status);
      expect(normalised(there.body as Bundle)).toEqual(normalised(here.body as Bundle));
    },
    60_000
  );
});

describe('readiness', () => {
  test('/readyz is 503 while no worker has loaded the content (here: workers that die of a 16 MB heap); /healthz is 200', async () => {
    const logs: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => void logs.push(JSON.parse(l)) });
    const pool = new WorkerPool({
      size: 1,
      queueLimit: 1,
      budgetMs: 10_000,
      maxHeapMb: MIN_WORKER_HEAP_MB,
      warmTypes: WARM,
      logger,
    });
    const server = await startServer({ tasks: pool, logLevel: 'silent' });
    try {
      while (!logs.some((l) => l.msg === 'pool worker exited; starting another')) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(pool.isReady()).toBe(false);
      const res = await request(`${server.origin}/readyz`);
      expect(res.status).toBe(503);
      expect(JSON.stringify(res.body)).toContain('No worker of the pool has loaded the content yet');
      expect((await request(`${server.origin}/healthz`)).status).toBe(200);
    } finally {
      await server.close();
      await pool.close();
    }
  }, 60_000);

  test('/readyz is 200 once a worker is ready', async () => {
    const pool = new WorkerPool({ size: 1, queueLimit: 1, budgetMs: 10_000, warmTypes: WARM, logger: quiet });
    const server = await startServer({ tasks: pool, logLevel: 'silent' });
    try {
      await pool.ready();
      expect((await request(`${server.origin}/readyz`)).status).toBe(200);
    } finally {
      await server.close();
      await pool.close();
    }
  }, 120_000);
});
