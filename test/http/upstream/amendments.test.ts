import type { Bundle, Resource } from '@medplum/fhirtypes';
import { CLOSABLE_TYPES } from '../../../src/core/bundle/reconcile';
import { evaluateResponse } from '../../../src/core/operations/evaluate';
import {
  amendmentSequences,
  goldenBundles,
  goldenStore,
  isClosing,
  staleActive,
} from '../../helpers/amendments';
import { testEngine } from '../../helpers/engine';
import type { TestServer } from '../../helpers/http';
import { post, startServer } from '../../helpers/http';
import { counterIds } from '../../helpers/ids';
import type { MedplumTestFhirServer } from '../../helpers/medplum-test-fhir-server';
import { startMedplumTestFhirServer } from '../../helpers/medplum-test-fhir-server';
import { keyOf, normalised } from '../../bot/support';

const SEQUENCES = amendmentSequences();
let ids = counterIds();
let fixture: MedplumTestFhirServer;
let server: TestServer;

beforeEach(async () => {
  // Entry by entry: most of our Bundles are over Medplum's strict-isolation cap of 8 entries.
  fixture = await startMedplumTestFhirServer({ transactions: false });
  server = await startServer(
    { newId: () => ids(), upstream: { url: fixture.url, retries: 0, timeoutMs: 60_000 } },
    { upstream: { sleep: async () => undefined } }
  );
}, 60_000);
afterEach(async () => {
  await server.close();
  await fixture.close();
});

async function held(): Promise<Resource[]> {
  const all: Resource[] = [];
  for (const type of [...CLOSABLE_TYPES, 'Observation', 'Provenance']) {
    all.push(...(await fixture.search(`${type}?_count=1000`)));
  }
  return all;
}

describe('amendment sequences in upstream mode (Medplum fhir-router upstream)', () => {
  test.each(SEQUENCES.map((s) => [s.name, s]))(
    '%s: each amendment searches for the earlier writes and closes the stale ones in its one transaction',
    async (_name, sequence) => {
      for (const step of sequence.steps) {
        ids = counterIds();
        // Upstream mode evaluates the stored response: each version is stored before it is submitted.
        await fixture.repo.updateResource(structuredClone(step));
        const sent = fixture.requests.length;
        const res = await post<Bundle>(`${server.base}/QuestionnaireResponse/$re-evaluate`, step);
        expect(res.status).toBe(200);
        const requests = fixture.requests.slice(sent).map((r) => `${r.method} /${r.path}`);
        // The stored response is read; an amendment then searches each closable type once; the write is
        // one transaction, then one batch of key searches that finds no duplicate to repair.
        expect(requests).toEqual([
          `GET /QuestionnaireResponse/${step.id}`,
          ...(step.status === 'amended' ? CLOSABLE_TYPES.map((t) => `GET /${t}`) : []),
          'POST /',
          'POST /',
        ]);
      }

      const stored = await held();
      const latest = evaluateResponse(sequence.steps.at(-1)!, testEngine()).bundle;
      expect(staleActive(stored, latest)).toEqual([]);

      const expected = goldenBundles(sequence, evaluateResponse(sequence.steps[0]!, testEngine()).bundle);
      const final = goldenStore(expected);
      expect(stored.length).toBe(final.size);
      const storedByKey = new Map(stored.map((r) => [keyOf(r)!, r]));
      const keyByReference = new Map(stored.map((r) => [`${r.resourceType}/${r.id}`, keyOf(r)!]));
      expect([...final.values()].filter((f) => isClosing(f.resource)).length).toBeGreaterThan(0);
      for (const [key, { resource, keyOf: keyOfFullUrl }] of final) {
        expect({
          key,
          content: normalised(storedByKey.get(key)!, (ref) => keyByReference.get(ref)),
        }).toEqual({ key, content: normalised(resource, (ref) => keyOfFullUrl.get(ref)) });
      }
    },
    120_000
  );

  test('a search the upstream refuses fails the submission with 502 and writes nothing', async () => {
    const [first, second] = SEQUENCES.find((s) => s.name === 'positive-to-negative-peu')!.steps;
    await fixture.repo.updateResource(structuredClone(first!));
    expect((await post(`${server.base}/QuestionnaireResponse/$re-evaluate`, first)).status).toBe(200);
    await fixture.repo.updateResource(structuredClone(second!));
    const before = fixture.requests.length;
    fixture.faults.push({
      kind: 'status',
      status: 403,
      body: { resourceType: 'OperationOutcome', issue: [] },
    });
    const res = await post(`${server.base}/QuestionnaireResponse/$re-evaluate`, second);
    expect(res.status).toBe(502);
    // The stored response is read, the first search is refused, and nothing is posted.
    expect(fixture.requests.slice(before).map((r) => r.method)).toEqual(['GET', 'GET']);
  });
});
