import type { Bundle, Identifier, QuestionnaireResponse, Resource } from '@medplum/fhirtypes';
import { evaluateResponse } from '../../../src/core/operations/evaluate';
import { testEngine } from '../../helpers/engine';
import type { TestServer } from '../../helpers/http';
import { post, startServer } from '../../helpers/http';
import type { MedplumTestFhirServer } from '../../helpers/medplum-test-fhir-server';
import { startMedplumTestFhirServer } from '../../helpers/medplum-test-fhir-server';
import { scenarios } from '../../helpers/scenarios';

/** The responses the tests submit, stored upstream first (the server evaluates the stored copy). */
const STORED = scenarios().map((s) => s.response);

/**
 * Concurrent submissions to one instance in upstream mode. Submissions of the same response are
 * serialised by the instance (its keyed lock), so its conditional writes never race each other at the
 * upstream; submissions of different responses run side by side. (Several instances, or other
 * writers, are the upstream's business: see the README.)
 */

const TURP = scenarios().find((s) => s.name === 'example-turp-tamsulosin')!.response as QuestionnaireResponse;
/** Eight different responses (every other golden scenario): the in-memory upstream slows as it fills. */
const ALL = scenarios().filter((_s, i) => i % 2 === 0);

let fixture: MedplumTestFhirServer;
let server: TestServer;

beforeEach(async () => {
  fixture = await startMedplumTestFhirServer({ resources: STORED, transactions: false });
  // Every golden scenario at once against an in-memory store that scans linearly: on a loaded 2-core
  // machine one answer can take tens of seconds, which is not what this test is about.
  server = await startServer({
    upstream: { url: fixture.url, retries: 0, timeoutMs: 240_000, maxQueuedPerResponse: 64 },
  });
}, 60_000);
afterEach(async () => {
  await server.close();
  await fixture.close();
});

const submit = (response: QuestionnaireResponse): ReturnType<typeof post<Bundle>> =>
  post<Bundle>(`${server.base}/QuestionnaireResponse/$re-evaluate`, response);

/**
 * Every write of a response's Bundle: its conditional search without the subject term (so that what
 * is counted is every stored resource with that key, whoever its subject), or `Type/id`.
 */
function writesOf(response: QuestionnaireResponse): string[] {
  return (evaluateResponse(response, testEngine()).bundle.entry ?? []).map((e) =>
    e.request!.url.replace(/&subject=[^&]*$/, '')
  );
}

/**
 * How many stored resources each write matches (by id, identifier or tag), from one scan per type (the in-memory repository's
 * identifier search is a linear scan with FHIRPath, too slow to run once per write).
 */
async function counter(): Promise<(url: string) => number> {
  const count = new Map<string, number>();
  const bump = (key: string): void => {
    count.set(key, (count.get(key) ?? 0) + 1);
  };
  for (const type of new Set(ALL.flatMap((s) => writesOf(s.response)).map((u) => u.split(/[?/]/)[0]!))) {
    const stored = (await fixture.search(`${type}?_count=1000`)) as (Resource & {
      identifier?: Identifier[];
    })[];
    for (const resource of stored) {
      bump(`${type}/${resource.id}`);
      for (const i of resource.identifier ?? []) {
        bump(`${type}?identifier=${i.system}|${i.value}`);
      }
      // The Provenance is keyed by a tag (it has no identifier of its own).
      for (const t of resource.meta?.tag ?? []) {
        bump(`${type}?_tag=${t.system}|${t.code}`);
      }
    }
  }
  return (url) => count.get(url) ?? 0;
}

describe('concurrent submissions to one instance, against the upstream', () => {
  test('50 submissions of the same response at once: all succeed, one set of Conditions and one CarePlan', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, () => submit(TURP)));

    expect(results.map((r) => `${r.status} ${r.body.type}`)).toEqual(
      Array.from({ length: 50 }, () => '200 transaction-response')
    );
    // All 50 transactions reached the upstream, one after another.
    expect(
      fixture.requests.filter((r) => r.method === 'POST' && (r.body as Bundle).type === 'transaction')
    ).toHaveLength(50);
    expect(fixture.maxInFlight).toBe(1);
    // Exactly one set: each write matches one stored resource, and nothing else was stored.
    const writes = writesOf(TURP);
    const found = await counter();
    for (const url of writes) {
      expect({ url, found: found(url) }).toEqual({ url, found: 1 });
    }
    expect((await fixture.search('Condition?_count=1000')).length).toBe(
      writes.filter((u) => u.startsWith('Condition')).length
    );
    expect((await fixture.search('CarePlan')).length).toBe(1);
    // Every submission was told about the same resources.
    const locations = results.map((r) => r.body.entry?.map((e) => e.response?.location));
    expect(new Set(locations.map((l) => JSON.stringify(l))).size).toBe(1);
  }, 300_000);

  test('submissions of different responses at once all succeed, side by side, each with its own set', async () => {
    // Each transaction waits at the upstream, so the submissions overlap there unless serialised.
    fixture.faults.push(...ALL.map(() => ({ kind: 'slow' as const, ms: 500 })));
    const results = await Promise.all(ALL.map((s) => submit(s.response)));

    expect(results.map((r, i) => [ALL[i]!.name, r.status])).toEqual(ALL.map((s) => [s.name, 200]));
    expect(fixture.maxInFlight).toBeGreaterThan(1);
    const found = await counter();
    const writes = ALL.map((s) => [s.name, writesOf(s.response)] as const);
    for (const [scenario, urls] of writes) {
      for (const url of urls) {
        expect({ scenario, url, found: found(url) }).toEqual({ scenario, url, found: 1 });
      }
    }
    const conditions = writes.flatMap(([, urls]) => urls).filter((u) => u.startsWith('Condition?'));
    expect((await fixture.search('Condition?_count=1000')).length).toBe(new Set(conditions).size);
  }, 300_000);

  test('past the per-response bound, a duplicate submission is refused with 429 and Retry-After; the others give one set', async () => {
    await server.close();
    server = await startServer({
      upstream: { url: fixture.url, retries: 0, timeoutMs: 60_000, maxQueuedPerResponse: 2 },
    });
    // The first transaction waits at the upstream, so the queue fills while it runs.
    fixture.faults.push({ kind: 'slow', ms: 2000 });
    const results = await Promise.all(Array.from({ length: 6 }, () => submit(TURP)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(1);
    for (const r of results.filter((x) => x.status === 429)) {
      expect(r.headers.get('retry-after')).toBe('1');
      expect((r.body as unknown as { resourceType: string }).resourceType).toBe('OperationOutcome');
    }
    const found = await counter();
    for (const url of writesOf(TURP)) {
      expect({ url, found: found(url) }).toEqual({ url, found: 1 });
    }
  }, 300_000);
});

describe('two server processes over one upstream whose conditional writes race (search, yield, insert)', () => {
  let racy: MedplumTestFhirServer;
  const instances: TestServer[] = [];
  const start = async (repairDuplicates: boolean): Promise<TestServer> => {
    const s = await startServer({
      upstream: { url: racy.url, retries: 2, timeoutMs: 60_000, maxQueuedPerResponse: 64, repairDuplicates },
    });
    instances.push(s);
    return s;
  };
  /** Statuses of n concurrent submissions alternating between the instances (a refusal with its body). */
  const spread = async (a: TestServer, b: TestServer, n: number): Promise<(number | string)[]> =>
    (
      await Promise.all(
        Array.from({ length: n }, (_, i) =>
          post<Bundle>(`${(i % 2 === 0 ? a : b).base}/QuestionnaireResponse/$re-evaluate`, TURP)
        )
      )
    ).map((r) => (r.status === 200 ? 200 : `${r.status} ${r.text.slice(0, 600)}`));
  /** For each write of the response, how many stored resources its key matches. */
  const perKey = async (): Promise<number[]> =>
    Promise.all(writesOf(TURP).map(async (url) => (await racy.search(url)).length));

  beforeEach(async () => {
    racy = await startMedplumTestFhirServer({ resources: STORED, transactions: false, raceWindowMs: 20 });
  }, 60_000);
  afterEach(async () => {
    await Promise.all(instances.splice(0).map((s) => s.close()));
    await racy.close();
  });

  test('the fixture reproduces the race: without the repair, two instances writing at once leave duplicates', async () => {
    const [a, b] = [await start(false), await start(false)];
    expect(await spread(a, b, 2)).toEqual([200, 200]);
    expect((await perKey()).some((n) => n > 1)).toBe(true);
  }, 300_000);

  test('50 concurrent duplicate submissions spread over two instances give exactly one result set', async () => {
    const [a, b] = [await start(true), await start(true)];
    const statuses = await spread(a, b, 50);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    const counts = await perKey();
    expect(writesOf(TURP).map((url, i) => [url, counts[i]])).toEqual(writesOf(TURP).map((url) => [url, 1]));
    // Nothing else of these types was stored, and every reference of the survivors resolves.
    expect((await racy.search('Condition?_count=1000')).length).toBe(
      writesOf(TURP).filter((u) => u.startsWith('Condition')).length
    );
    const [carePlan] = await racy.search('CarePlan');
    for (const ref of (carePlan as { addresses?: { reference?: string }[] }).addresses ?? []) {
      const [type, id] = ref.reference!.split('/');
      expect(await racy.read(type!, id!)).toBeDefined();
    }
  }, 300_000);
});
