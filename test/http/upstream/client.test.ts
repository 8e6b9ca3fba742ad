import type {
  Bundle,
  Condition,
  OperationOutcome,
  QuestionnaireResponse,
  Resource,
} from '@medplum/fhirtypes';
import { evaluateResponse } from '../../../src/core/operations/evaluate';
import type { UpstreamConfig } from '../../../src/http/config';
import { applyPatch } from '../../helpers/bad-input';
import { testEngine } from '../../helpers/engine';
import type { TestServer } from '../../helpers/http';
import { expectOutcome, post, request, startServer } from '../../helpers/http';
import { counterIds } from '../../helpers/ids';
import type { MedplumTestFhirServer } from '../../helpers/medplum-test-fhir-server';
import { startMedplumTestFhirServer } from '../../helpers/medplum-test-fhir-server';
import { scenarios } from '../../helpers/scenarios';

/** The responses the tests submit, stored upstream first (the server evaluates the stored copy). */
const STORED = scenarios().map((s) => s.response);

const SCENARIOS = new Map(scenarios().map((s) => [s.name, s.response]));
const TURP = SCENARIOS.get('example-turp-tamsulosin')!;
const NO_FINDINGS = SCENARIOS.get('no-findings')!;

let ids = counterIds();
const noSleep = async (): Promise<void> => undefined;

async function withUpstream(
  fixture: MedplumTestFhirServer,
  upstream: Partial<UpstreamConfig> = {}
): Promise<TestServer> {
  return startServer(
    { newId: () => ids(), upstream: { url: fixture.url, retries: 2, timeoutMs: 60_000, ...upstream } },
    { upstream: { sleep: noSleep } }
  );
}

/** The transactions the fixture received (POSTs to its base). */
function transactions(fixture: MedplumTestFhirServer): Bundle[] {
  return fixture.requests
    .filter((r) => r.method === 'POST' && r.path === '' && (r.body as Bundle).type === 'transaction')
    .map((r) => r.body as Bundle);
}

function reEvaluate(server: TestServer, response: QuestionnaireResponse): ReturnType<typeof post<Bundle>> {
  ids = counterIds();
  return post<Bundle>(`${server.base}/QuestionnaireResponse/$re-evaluate`, response);
}

/** A resource without the server-managed metadata that changes on every write. */
function content(resource: Resource | undefined): unknown {
  if (!resource) {
    return undefined;
  }
  const { meta, ...rest } = resource;
  const keptMeta = { ...meta };
  delete keptMeta.versionId;
  delete keptMeta.lastUpdated;
  return { ...rest, meta: keptMeta };
}

/** The stored resource behind every entry of a transaction-response. */
async function stored(fixture: MedplumTestFhirServer, response: Bundle): Promise<Resource[]> {
  return Promise.all(
    (response.entry ?? []).map(async (e) => {
      const [type, id] = (e.response?.location ?? '').split('/');
      const found = await fixture.read(type!, id!);
      expect(found).toBeDefined();
      return found!;
    })
  );
}

describe('upstream mode against Medplum (fhir-router + MemoryRepository, entry-by-entry processing)', () => {
  let fixture: MedplumTestFhirServer;
  let server: TestServer;

  beforeEach(async () => {
    fixture = await startMedplumTestFhirServer({ resources: STORED, transactions: false });
    server = await withUpstream(fixture);
  });
  afterEach(async () => {
    await server.close();
    await fixture.close();
  });

  test('sends exactly one transaction, the library Bundle, and nothing else, with the request id', async () => {
    ids = counterIds();
    const res = await post<Bundle>(`${server.base}/QuestionnaireResponse/$re-evaluate`, TURP, {
      'x-request-id': 'req-42',
    });
    expect(res.status).toBe(200);
    // The stored copy of the response is read first: that copy is what is evaluated.
    // Then the transaction, then one batch of searches by key that finds no duplicate to repair.
    expect(
      fixture.requests.map((r) =>
        `${r.method} /${r.path} ${(r.body as Bundle | undefined)?.type ?? ''}`.trim()
      )
    ).toEqual([`GET /QuestionnaireResponse/${TURP.id}`, 'POST / transaction', 'POST / batch']);
    expect(fixture.requests.map((r) => r.requestId)).toEqual(['req-42', 'req-42', 'req-42']);
    expect(fixture.requests[1]?.prefer).toBe('return=representation');
    expect(transactions(fixture)).toEqual([evaluateResponse(TURP, testEngine()).bundle]);
    expect(fixture.requests[1]!.body).toMatchObject({ type: 'transaction' });
  });

  test('returns the transaction-response, and every written resource is stored and readable', async () => {
    const res = await reEvaluate(server, TURP);
    const sent = transactions(fixture)[0]!;
    expect(res.body.type).toBe('transaction-response');
    expect(res.body.entry?.length).toBe(sent.entry?.length);
    const resources = await stored(fixture, res.body);
    expect(resources.map((r) => r.resourceType)).toEqual(sent.entry?.map((e) => e.resource?.resourceType));
    const conditions = await fixture.search(
      'Condition?identifier=http://re-fhir.org/fhir/sid/extraction|re-example-turp-tamsulosin-R1-re'
    );
    expect(conditions).toHaveLength(1);
    // Intra-Bundle references were resolved by the server to the stored ids.
    const carePlan = resources.find((r) => r.resourceType === 'CarePlan') as {
      addresses?: { reference?: string }[];
    };
    expect(carePlan.addresses?.map((a) => a.reference)).toContain(`Condition/${conditions[0]!.id}`);
  });

  test('a resubmission changes nothing: same resources, same ids, same content', async () => {
    const first = await reEvaluate(server, TURP);
    const before = await stored(fixture, first.body);
    const second = await reEvaluate(server, TURP);
    expect(second.status).toBe(200);
    expect(second.body.entry?.map((e) => e.response?.location)).toEqual(
      first.body.entry?.map((e) => e.response?.location)
    );
    const after = await stored(fixture, second.body);
    expect(after.map(content)).toEqual(before.map(content));
    for (const type of ['Condition', 'Observation', 'CarePlan', 'ServiceRequest', 'Provenance']) {
      expect({ type, count: (await fixture.search(type)).length }).toEqual({
        type,
        count: before.filter((r) => r.resourceType === type).length,
      });
    }
  });

  test('an amended response updates the same Condition in place', async () => {
    const amended = SCENARIOS.get('amended-negative-peu')!;
    const original = structuredClone(amended);
    original.status = 'completed';
    const peu = original.item
      ?.find((i) => i.linkId === 'investigations')
      ?.item?.find((i) => i.linkId === 'peu');
    peu!.item![0]!.answer = [{ valueBoolean: true }];
    const key = 'Condition?identifier=http://re-fhir.org/fhir/sid/extraction|sc-amended-R1-re';

    // Each version is stored upstream before it is submitted (the stored copy is what is evaluated).
    await fixture.store(original);
    expect((await reEvaluate(server, original)).status).toBe(200);
    const [before] = (await fixture.search(key)) as Condition[];
    await fixture.store(amended);
    expect((await reEvaluate(server, amended)).status).toBe(200);
    const after = (await fixture.search(key)) as Condition[];

    const expected = evaluateResponse(amended, testEngine()).conditions.find((c) =>
      c.identifier?.some((i) => i.value === 'sc-amended-R1-re')
    );
    expect(after).toHaveLength(1);
    expect(after[0]!.id).toBe(before!.id);
    expect(after[0]!.verificationStatus).toEqual(expected!.verificationStatus);
    expect(after[0]!.verificationStatus).not.toEqual(before!.verificationStatus);
  });

  test('concurrent submissions of the same response reach the upstream one at a time, giving one set', async () => {
    // Each transaction waits a little at the upstream, so unserialised submissions would overlap there.
    fixture.faults.push(...Array.from({ length: 5 }, () => ({ kind: 'slow' as const, ms: 50 })));
    const results = await Promise.all(
      Array.from({ length: 5 }, () => post<Bundle>(`${server.base}/QuestionnaireResponse/$re-evaluate`, TURP))
    );
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(transactions(fixture)).toHaveLength(5);
    expect(fixture.maxInFlight).toBe(1);
    const keys = (transactions(fixture)[0]!.entry ?? [])
      .map((e) => e.request?.url ?? '')
      .filter((u) => u.includes('?identifier='));
    for (const key of keys) {
      expect({ key, found: (await fixture.search(key)).length }).toEqual({ key, found: 1 });
    }
  }, 60_000);

  test('regression: with nothing to write, no transaction is sent (Medplum refuses an empty one) and an empty transaction-response comes back', async () => {
    const nothing = applyPatch(NO_FINDINGS, [
      { op: 'remove-item', linkId: 'shim-total' },
      { op: 'remove-item', linkId: 'pedt-total' },
    ]);
    await fixture.store(nothing);
    const res = await reEvaluate(server, nothing);
    expect({ status: res.status, body: res.body }).toEqual({
      status: 200,
      body: { resourceType: 'Bundle', type: 'transaction-response' },
    });
    expect(fixture.requests.map((r) => r.method)).toEqual(['GET']);
  });

  test('upstream 500 is retried with the same transaction, then 502 with an OperationOutcome', async () => {
    fixture.faults.push(...Array.from({ length: 3 }, () => ({ kind: 'status' as const, status: 500 })));
    const res = await reEvaluate(server, TURP);
    const texts = expectOutcome(res, 502, 'exception');
    expect(texts[0]).toContain('HTTP 500');
    const sent = transactions(fixture);
    expect(sent).toHaveLength(3);
    expect(sent[1]).toEqual(sent[0]);
    expect(sent[2]).toEqual(sent[0]);
  });

  test('a 503 followed by success gives the transaction-response (one retry of the same Bundle)', async () => {
    fixture.faults.push({ kind: 'status', status: 503 });
    const res = await reEvaluate(server, TURP);
    expect({ status: res.status, type: res.body.type }).toEqual({
      status: 200,
      type: 'transaction-response',
    });
    const sent = transactions(fixture);
    expect(sent).toHaveLength(2);
    expect(sent[1]).toEqual(sent[0]);
  });

  test.each([400, 409, 412, 422])(
    'upstream %i passes through with its own OperationOutcome',
    async (status) => {
      const theirs: OperationOutcome = {
        resourceType: 'OperationOutcome',
        issue: [{ severity: 'error', code: 'conflict', details: { text: `upstream says ${status}` } }],
      };
      fixture.faults.push({ kind: 'status', status, body: theirs });
      const res = await reEvaluate(server, TURP);
      expect({ status: res.status, body: res.body }).toEqual({ status, body: theirs });
      expect(transactions(fixture)).toHaveLength(1);
    }
  );

  test('another upstream 4xx (404) is 502, keeping the upstream issues after ours', async () => {
    fixture.faults.push({
      kind: 'status',
      status: 404,
      body: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found' }] },
    });
    const res = await reEvaluate(server, TURP);
    expectOutcome(res, 502, 'exception');
    expect((res.body as unknown as OperationOutcome).issue?.[1]).toEqual({
      severity: 'error',
      code: 'not-found',
    });
    expect(transactions(fixture)).toHaveLength(1);
  });

  test('a malformed 200 is 502 and is not retried', async () => {
    fixture.faults.push({ kind: 'malformed' });
    const texts = expectOutcome(await reEvaluate(server, TURP), 502, 'exception');
    expect(texts[0]).toContain('not JSON');
    expect(transactions(fixture)).toHaveLength(1);
  });

  test('regression: a 200 whose entry status is not text is 502, not a TypeError (500)', async () => {
    const count = evaluateResponse(TURP, testEngine()).bundle.entry!.length;
    fixture.faults.push({
      kind: 'status',
      status: 200,
      body: {
        resourceType: 'Bundle',
        type: 'transaction-response',
        entry: Array.from({ length: count }, () => ({ response: { status: { toString: 0 } } })),
      },
    });
    const texts = expectOutcome(await reEvaluate(server, TURP), 502, 'exception');
    expect(texts[0]).toContain('an entry has no response status');
    expect(server.logs.filter((l) => l.msg === 'request failed')).toEqual([]);
  });

  test('a dropped connection is retried, and 502 when it keeps failing', async () => {
    fixture.faults.push({ kind: 'drop' }, { kind: 'drop' }, { kind: 'drop' });
    const texts = expectOutcome(await reEvaluate(server, TURP), 502, 'exception');
    expect(texts[0]).toContain('unreachable');
    expect(transactions(fixture)).toHaveLength(3);
  });
});

describe('upstream mode against a server that returns only status and location by default (as HAPI does)', () => {
  let fixture: MedplumTestFhirServer;
  let server: TestServer;

  beforeEach(async () => {
    fixture = await startMedplumTestFhirServer({
      resources: STORED,
      transactions: false,
      defaultReturn: 'minimal',
    });
    server = await withUpstream(fixture);
  });
  afterEach(async () => {
    await server.close();
    await fixture.close();
  });

  test('the fixture: a transaction sent without Prefer gets entries with a status and location but no resource', async () => {
    const res = await post<Bundle>(fixture.url, evaluateResponse(TURP, testEngine()).bundle);
    expect(res.status).toBe(200);
    expect(res.body.type).toBe('transaction-response');
    expect(res.body.entry?.length).toBeGreaterThan(0);
    for (const entry of res.body.entry ?? []) {
      expect(entry.response?.location).toMatch(/^[A-Za-z]+\/[^/]+/);
      expect(entry.resource).toBeUndefined();
    }
  });

  test('every attempt asks for Prefer: return=representation (FHIR R4 http.html#ops), so the transaction-response holds each written resource', async () => {
    fixture.faults.push({ kind: 'status', status: 503 });
    const res = await reEvaluate(server, TURP);
    expect(res.status).toBe(200);
    const posts = fixture.requests.filter(
      (r) => r.method === 'POST' && r.path === '' && (r.body as Bundle).type === 'transaction'
    );
    expect(posts.map((r) => r.prefer)).toEqual(['return=representation', 'return=representation']);
    const sent = transactions(fixture)[1]!;
    expect(res.body.entry?.length).toBe(sent.entry?.length);
    for (const entry of res.body.entry ?? []) {
      const [type, id] = (entry.response?.location ?? '').split('/');
      expect({ resourceType: entry.resource?.resourceType, id: entry.resource?.id }).toEqual({
        resourceType: type,
        id,
      });
    }
    expect(res.body.entry?.map((e) => e.resource?.resourceType)).toEqual(
      sent.entry?.map((e) => e.resource?.resourceType)
    );
  });
});

describe('upstream mode: slow and down', () => {
  test('an upstream slower than the timeout gives 504 after the bounded retries', async () => {
    const fixture = await startMedplumTestFhirServer({ resources: STORED, transactions: false });
    const server = await withUpstream(fixture, { timeoutMs: 2_000, retries: 1 });
    try {
      fixture.faults.push({ kind: 'slow', ms: 6_000 }, { kind: 'slow', ms: 6_000 });
      const texts = expectOutcome(await reEvaluate(server, TURP), 504, 'timeout');
      expect(texts[0]).toContain('did not answer in time');
      expect(transactions(fixture)).toHaveLength(2);
    } finally {
      await server.close();
      await fixture.close();
    }
  });

  test('an upstream that is down gives 502, and /readyz says not ready', async () => {
    const fixture = await startMedplumTestFhirServer({ resources: STORED });
    await fixture.close();
    const server = await withUpstream(fixture);
    try {
      const texts = expectOutcome(await reEvaluate(server, TURP), 502, 'exception');
      expect(texts[0]).toContain('unreachable');
      expectOutcome(await request(`${server.origin}/readyz`), 503, 'transient');
    } finally {
      await server.close();
    }
  });
});

describe('upstream mode against Medplum with transactions enabled', () => {
  let fixture: MedplumTestFhirServer;
  let server: TestServer;

  beforeAll(async () => {
    fixture = await startMedplumTestFhirServer({ resources: STORED, transactions: true });
    server = await withUpstream(fixture);
  });
  afterAll(async () => {
    await server.close();
    await fixture.close();
  });

  test('a small transaction (3 entries) is stored as one transaction', async () => {
    const res = await reEvaluate(server, NO_FINDINGS);
    expect({ status: res.status, type: res.body.type }).toEqual({
      status: 200,
      type: 'transaction-response',
    });
    expect(transactions(fixture)).toHaveLength(1);
    await stored(fixture, res.body);
  });

  test("Medplum's 8-entry cap on conditional transactions: the cap is learnt from its 400 and the Bundle is written in ordered chunks, Provenance last", async () => {
    const res = await reEvaluate(server, TURP);
    const bundle = evaluateResponse(TURP, testEngine()).bundle;
    expect({ status: res.status, type: res.body.type, entries: res.body.entry?.length }).toEqual({
      status: 200,
      type: 'transaction-response',
      entries: bundle.entry!.length,
    });
    const sent = transactions(fixture).slice(-Math.ceil(bundle.entry!.length / 8));
    expect(sent.every((t) => (t.entry?.length ?? 0) <= 8)).toBe(true);
    expect(sent.at(-1)!.entry!.at(-1)!.resource!.resourceType).toBe('Provenance');
    // Every entry answered in the Bundle's order, each stored once; later chunks point at stored ids.
    const resources = await stored(fixture, res.body);
    expect(resources.map((r) => r.resourceType)).toEqual(bundle.entry!.map((e) => e.resource!.resourceType));
    const carePlan = resources.find((r) => r.resourceType === 'CarePlan') as {
      addresses?: { reference?: string }[];
    };
    expect(carePlan.addresses?.every((a) => /^Condition\/[^/]+$/.test(a.reference ?? ''))).toBe(true);
  });

  test('/readyz is ready when the upstream answers metadata', async () => {
    const res = await request<{ status: string; upstream: string }>(`${server.origin}/readyz`);
    expect({ status: res.status, body: res.body }).toEqual({
      status: 200,
      body: { status: 'ready', content: 'loaded', upstream: 'reachable' },
    });
  });
});

describe('/readyz and the upstream probe', () => {
  test('the probe is cached for a few seconds (injected clock): many /readyz calls, one metadata request, then a fresh one', async () => {
    const fixture = await startMedplumTestFhirServer({ resources: STORED });
    let clock = 1_000_000;
    const server = await startServer(
      { upstream: { url: fixture.url, retries: 0 } },
      { upstream: { sleep: noSleep, now: () => clock } }
    );
    const probes = (): number => fixture.requests.filter((r) => r.path === 'metadata').length;
    try {
      for (let i = 0; i < 5; i++) {
        expect((await request(`${server.origin}/readyz`)).status).toBe(200);
      }
      expect(probes()).toBe(1);
      clock += 4999;
      expect((await request(`${server.origin}/readyz`)).status).toBe(200);
      expect(probes()).toBe(1);
      clock += 2;
      expect((await request(`${server.origin}/readyz`)).status).toBe(200);
      expect(probes()).toBe(2);
    } finally {
      await server.close();
      await fixture.close();
    }
  }, 60_000);
});
