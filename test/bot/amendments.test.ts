import type { WithId } from '@medplum/core';
import type { Provenance, Resource } from '@medplum/fhirtypes';
import type { MockClient } from '@medplum/mock';
import { evaluateAndWrite } from '../../src/bot/handler';
import type { EvaluatedSummary } from '../../src/bot/handler';
import { createBotEngine } from '../../src/bot/engine';
import { CLOSABLE_TYPES } from '../../src/core/bundle/reconcile';
import type { EngineDeps } from '../../src/core/operations/engine';
import { evaluateResponse } from '../../src/core/operations/evaluate';
import {
  amendmentSequences,
  goldenBundles,
  goldenStore,
  heldAfter,
  isClosing,
  staleActive,
} from '../helpers/amendments';
import { counterIds, fixedClock } from '../helpers/ids';
import { indexedMockClient, keyOf, normalised, storeResponse } from './support';

const SEQUENCES = amendmentSequences();
let base: EngineDeps;
let clients: Record<string, MockClient>;

beforeAll(async () => {
  clients = {
    'transactions off': await indexedMockClient(),
    'transactions on': await indexedMockClient({ transactions: true }),
  };
  base = createBotEngine();
}, 60_000);

const goldenEngine = (): EngineDeps => ({ ...base, clock: fixedClock(), newId: counterIds() });

/** Every stored resource of the types an evaluation writes. */
async function stored(medplum: MockClient): Promise<WithId<Resource>[]> {
  const all: WithId<Resource>[] = [];
  for (const type of [...CLOSABLE_TYPES, 'Observation', 'Provenance'] as const) {
    all.push(...(await medplum.searchResources(type, { _count: '1000' })));
  }
  return all;
}

describe.each(Object.keys({ 'transactions off': 0, 'transactions on': 0 }))(
  'amendment sequences through the bot on a Medplum project with %s',
  (mode) => {
    test.each(SEQUENCES.map((s) => [s.name, s]))(
      '%s: the store ends as the golden sequence says, with nothing stale active',
      async (_name, sequence) => {
        const medplum = clients[mode]!;
        medplum.repo.clear();
        let summary: EvaluatedSummary | undefined;
        for (const step of sequence.steps) {
          const response = await storeResponse(medplum, step);
          summary = (await evaluateAndWrite(medplum, response, goldenEngine())) as EvaluatedSummary;
          expect(summary.outcome).toBe('evaluated');
        }
        const held = await stored(medplum);

        // Nothing the latest response does not support stays active in the store.
        const latest = evaluateResponse(sequence.steps.at(-1)!, goldenEngine()).bundle;
        expect(staleActive(held, latest)).toEqual([]);

        // Every resource the golden sequence leaves is stored with exactly its content.
        const expected = goldenBundles(sequence, evaluateResponse(sequence.steps[0]!, goldenEngine()).bundle);
        const final = goldenStore(expected);
        expect(heldAfter(expected).length).toBe(final.size);
        const storedByKey = new Map(held.map((r) => [keyOf(r)!, r]));
        const keyByReference = new Map(held.map((r) => [`${r.resourceType}/${r.id}`, keyOf(r)!]));
        expect(held.length).toBe(final.size);
        for (const [key, { resource, keyOf: keyOfFullUrl }] of final) {
          expect({
            key,
            content: normalised(storedByKey.get(key)!, (ref) => keyByReference.get(ref)),
          }).toEqual({
            key,
            content: normalised(resource, (ref) => keyOfFullUrl.get(ref)),
          });
        }

        // The amendment's Provenance targets what it closed.
        const last = expected.at(-1)!;
        const provenanceKey = keyOf(last.entry!.at(-1)!.resource!)!;
        const provenance = storedByKey.get(provenanceKey) as Provenance;
        const closed = (last.entry ?? []).filter((e) => isClosing(e.resource!));
        expect(closed.length).toBeGreaterThan(0);
        expect(provenance.target.map((t) => keyByReference.get(t.reference!))).toEqual(
          expect.arrayContaining(closed.map((e) => e.request!.url))
        );
        // The summary names the CarePlan only while a rule applies (not the revoked one).
        const latestCarePlan = latest.entry?.find((e) => e.resource?.resourceType === 'CarePlan');
        expect(summary!.carePlan === undefined).toBe(latestCarePlan === undefined);
        expect(summary!.issues.map((i) => i.details?.text)).toContainEqual(
          expect.stringMatching(new RegExp(`^Closed ${closed.length} resources`))
        );
      },
      120_000
    );
  }
);
