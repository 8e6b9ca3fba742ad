import type { Bundle, BundleEntry, QuestionnaireResponse } from '@medplum/fhirtypes';
import { evaluateResponse } from '../../../src/core/operations/evaluate';
import type { UpstreamConfig } from '../../../src/http/config';
import { testEngine } from '../../helpers/engine';
import type { TestServer } from '../../helpers/http';
import { expectOutcome, post, startServer } from '../../helpers/http';
import type { Fault, MedplumTestFhirServer } from '../../helpers/medplum-test-fhir-server';
import { startMedplumTestFhirServer } from '../../helpers/medplum-test-fhir-server';
import { scenarios } from '../../helpers/scenarios';

/**
 * Issue 11.6: the faults of a default Medplum project, as the real server showed them — a transaction
 * run as a batch, 403 on every profiled entry when the token may not read StructureDefinitions, entry-
 * level 429 with `RateLimit` inside a 200, and the strict-isolation cap. For each: no call answers
 * success with a partial write (a partial write is reported entry by entry), and a rerun completes it.
 */

const TURP = scenarios().find((s) => s.name === 'example-turp-tamsulosin')!.response as QuestionnaireResponse;
const BUNDLE = evaluateResponse(TURP, testEngine()).bundle;
const ENTRIES = BUNDLE.entry!;

let fixture: MedplumTestFhirServer;
let servers: TestServer[] = [];
/** Every wait the client asked for (injected sleep: no real time passes). */
let waits: number[] = [];

async function withUpstream(upstream: Partial<UpstreamConfig> = {}): Promise<TestServer> {
  const server = await startServer(
    { upstream: { url: fixture.url, retries: 3, timeoutMs: 20_000, ...upstream } },
    {
      upstream: {
        sleep: async (ms) => {
          waits.push(ms);
        },
      },
    }
  );
  servers.push(server);
  return server;
}

const submit = (server: TestServer): ReturnType<typeof post<Bundle>> =>
  post<Bundle>(`${server.base}/QuestionnaireResponse/$re-evaluate`, TURP);

/** For each write of the Bundle, how many stored resources its search matches. */
async function counts(): Promise<number[]> {
  return Promise.all(ENTRIES.map(async (e) => (await fixture.search(e.request!.url)).length));
}

/** `complete` (each write stored exactly once), `nothing`, or how many of the writes are stored. */
async function storeState(): Promise<string> {
  const found = await counts();
  if (found.every((n) => n === 1)) {
    return 'complete';
  }
  if (found.some((n) => n > 1)) {
    return `duplicates: ${JSON.stringify(found)}`;
  }
  return found.every((n) => n === 0) ? 'nothing' : `partial: ${found.filter((n) => n === 1).length}`;
}

const times = (n: number, fault: Fault): Fault[] => Array.from({ length: n }, () => fault);
const profiled = (entry: BundleEntry): boolean => (entry.resource?.meta?.profile?.length ?? 0) > 0;

beforeEach(async () => {
  waits = [];
  fixture = await startMedplumTestFhirServer({ resources: [TURP], transactions: false });
}, 60_000);
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
  await fixture.close();
});

describe('a default Medplum project (transactions run as a batch)', () => {
  test('403 on the profiled entries (no StructureDefinition read): 502 naming the permission, every entry written and not written listed; a rerun completes', async () => {
    expect(ENTRIES.some(profiled) && !ENTRIES.every(profiled)).toBe(true);
    fixture.faults.push({ kind: 'entries', status: (e) => (profiled(e) ? 403 : undefined) });
    const server = await withUpstream();
    const res = await submit(server);

    const texts = expectOutcome(res, 502, 'incomplete');
    const written = ENTRIES.filter((e) => !profiled(e)).length;
    expect(texts[0]).toBe(
      `The upstream FHIR server wrote ${written} of ${ENTRIES.length} entries. Resubmitting the same response completes the write and duplicates nothing (every write is a conditional update)`
    );
    expect(texts.filter((t) => t.startsWith('written: '))).toHaveLength(written);
    const refused = texts.filter((t) => t.startsWith('not written: '));
    expect(refused).toHaveLength(ENTRIES.length - written);
    expect(refused.every((t) => t.includes('→ 403') && t.includes('grant StructureDefinition read'))).toBe(
      true
    );
    // A 403 is not retried: one transaction.
    expect(
      fixture.requests.filter((r) => r.method === 'POST' && (r.body as Bundle).type === 'transaction')
    ).toHaveLength(1);
    expect(await storeState()).toBe(`partial: ${written}`);

    // The permission granted: the same submission completes the write, duplicating nothing.
    const rerun = await submit(server);
    expect({ status: rerun.status, type: rerun.body.type }).toEqual({
      status: 200,
      type: 'transaction-response',
    });
    expect(await storeState()).toBe('complete');
  });

  test('entry-level 429 inside a 200, with RateLimit: the Bundle is re-sent after the reset Medplum names, and the call succeeds complete', async () => {
    fixture.faults.push({
      kind: 'entries',
      status: (_e, i) => (i >= 5 ? 429 : undefined),
      headers: { ratelimit: '"requests";r=5999;t=60, "fhirInteractions";r=0;t=7' },
    });
    const server = await withUpstream();
    const res = await submit(server);
    expect({ status: res.status, type: res.body.type, entries: res.body.entry?.length }).toEqual({
      status: 200,
      type: 'transaction-response',
      entries: ENTRIES.length,
    });
    expect(res.body.entry!.every((e) => e.response?.status?.startsWith('2'))).toBe(true);
    expect(
      fixture.requests.filter((r) => r.method === 'POST' && (r.body as Bundle).type === 'transaction')
    ).toHaveLength(2);
    expect(waits).toEqual([7000]);
    expect(await storeState()).toBe('complete');
  });

  test("a 429 storm that outlasts the retries: 503 with the upstream's Retry-After, the partial write reported entry by entry; a rerun completes", async () => {
    fixture.faults.push(
      ...times(4, {
        kind: 'entries',
        status: (_e, i) => (i >= 5 ? 429 : undefined),
        headers: { 'retry-after': '2' },
      })
    );
    const server = await withUpstream({ retries: 3 });
    const res = await submit(server);
    const texts = expectOutcome(res, 503, 'throttled');
    expect(res.headers.get('retry-after')).toBe('2');
    expect(texts[0]).toContain(`wrote 5 of ${ENTRIES.length} entries`);
    expect(texts.filter((t) => t.startsWith('not written: ') && t.endsWith('→ 429'))).toHaveLength(
      ENTRIES.length - 5
    );
    expect(waits.every((w) => w >= 2000)).toBe(true);
    expect(await storeState()).toBe('partial: 5');

    const rerun = await submit(server);
    expect(rerun.status).toBe(200);
    expect(await storeState()).toBe('complete');
  });

  test('the retry budget bounds the waiting: a reset further away than the budget is not waited for', async () => {
    fixture.faults.push({
      kind: 'entries',
      status: (_e, i) => (i >= 5 ? 429 : undefined),
      headers: { ratelimit: '"fhirInteractions";r=0;t=600' },
    });
    const server = await withUpstream({ retryBudgetMs: 30_000 });
    const res = await submit(server);
    expectOutcome(res, 503, 'throttled');
    expect(res.headers.get('retry-after')).toBe('600');
    expect(waits).toEqual([]);
    expect(
      fixture.requests.filter((r) => r.method === 'POST' && (r.body as Bundle).type === 'transaction')
    ).toHaveLength(1);
  });
});

describe('Medplum with transactions on (strict-isolation cap of 8 conditional entries)', () => {
  beforeEach(async () => {
    await fixture.close();
    fixture = await startMedplumTestFhirServer({ resources: [TURP], transactions: true });
  }, 60_000);

  test('a configured cap writes ordered chunks, Provenance last; a failure in a later chunk reports what the earlier ones wrote, and a rerun completes', async () => {
    // A cap below the Bundle's third, so that a failed second chunk leaves a later one unsent.
    const cap = 5;
    const server = await withUpstream({ maxTransactionEntries: cap, retries: 0 });
    const chunks = Math.ceil(ENTRIES.length / cap);
    expect(chunks).toBeGreaterThan(2);
    // The second chunk fails outright.
    fixture.faults.push({ kind: 'entries', status: () => undefined }, { kind: 'status', status: 500 });
    const res = await submit(server);
    const texts = expectOutcome(res, 502, 'incomplete');
    expect(texts[0]).toContain(`wrote ${cap} of ${ENTRIES.length} entries`);
    expect(texts.filter((t) => t.startsWith('written: '))).toHaveLength(cap);
    expect(texts.filter((t) => t.startsWith('not written: '))).toHaveLength(ENTRIES.length - cap);
    // Nothing after the failed chunk was sent, so no Provenance claims a complete write.
    expect(
      fixture.requests.filter((r) => r.method === 'POST' && (r.body as Bundle).type === 'transaction')
    ).toHaveLength(2);
    expect((await fixture.search('Provenance')).length).toBe(0);

    const rerun = await submit(server);
    expect(rerun.status).toBe(200);
    const sent = fixture.requests
      .filter((r) => r.method === 'POST' && (r.body as Bundle).type === 'transaction')
      .slice(-chunks)
      .map((r) => r.body as Bundle);
    expect(sent.every((b) => b.entry!.length <= cap)).toBe(true);
    expect(sent.at(-1)!.entry!.at(-1)!.resource!.resourceType).toBe('Provenance');
    expect(await storeState()).toBe('complete');
  });
});
