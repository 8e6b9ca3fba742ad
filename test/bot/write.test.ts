import { OperationOutcomeError } from '@medplum/core';
import type { Bundle, Condition } from '@medplum/fhirtypes';
import type { MockClient } from '@medplum/mock';
import { ENGINE_ID_TAG_SYSTEM, executeTransaction, forMedplum } from '../../src/bot/write';
import { indexedMockClient } from './support';

const KEY = 'http://example.org/sid/key';

const bundle: Bundle = {
  resourceType: 'Bundle',
  type: 'transaction',
  entry: [
    {
      fullUrl: 'urn:uuid:00000000-0000-4000-8000-000000000001',
      resource: {
        resourceType: 'Condition',
        identifier: [{ system: KEY, value: 'c1' }],
        subject: { reference: 'Patient/p1' },
      },
      request: { method: 'PUT', url: `Condition?identifier=${KEY}|c1` },
    },
    {
      fullUrl: 'urn:uuid:5d0c3f5e-0000-5000-8000-000000000002',
      resource: {
        resourceType: 'Provenance',
        id: '5d0c3f5e-0000-5000-8000-000000000002',
        meta: {
          profile: ['http://example.org/StructureDefinition/p'],
          tag: [{ system: 'http://x', code: 'y' }],
        },
        target: [{ reference: 'urn:uuid:00000000-0000-4000-8000-000000000001' }],
        recorded: '2026-11-27T09:00:00Z',
        agent: [{ who: { reference: 'Practitioner/x' } }],
      },
      request: { method: 'PUT', url: 'Provenance/5d0c3f5e-0000-5000-8000-000000000002' },
    },
  ],
};

describe('forMedplum', () => {
  test('turns a PUT by a client-chosen id into a conditional update on a tag holding that id', () => {
    const [, provenance] = forMedplum(bundle).entry!;
    expect(provenance!.request).toEqual({
      method: 'PUT',
      url: `Provenance?_tag=${ENGINE_ID_TAG_SYSTEM}|5d0c3f5e-0000-5000-8000-000000000002`,
    });
    expect(provenance!.resource!.id).toBeUndefined();
    expect(provenance!.resource!.meta).toEqual({
      profile: ['http://example.org/StructureDefinition/p'],
      tag: [
        { system: 'http://x', code: 'y' },
        { system: ENGINE_ID_TAG_SYSTEM, code: '5d0c3f5e-0000-5000-8000-000000000002' },
      ],
    });
    expect(provenance!.fullUrl).toBe(bundle.entry![1]!.fullUrl);
  });

  test('keeps conditional updates as they are and does not touch its input', () => {
    const before = structuredClone(bundle);
    const adapted = forMedplum(bundle);
    expect(adapted.entry![0]).toEqual(bundle.entry![0]);
    expect(adapted.type).toBe('transaction');
    expect(bundle).toEqual(before);
  });
});

describe('executeTransaction', () => {
  let medplum: MockClient;

  beforeAll(async () => {
    medplum = await indexedMockClient();
  });

  beforeEach(() => {
    medplum.repo.clear();
  });

  test('returns where each entry was written, and a second run writes to the same places', async () => {
    const first = await executeTransaction(medplum, forMedplum(bundle));
    const second = await executeTransaction(medplum, forMedplum(bundle));
    expect([...first.keys()]).toEqual(bundle.entry!.map((e) => e.fullUrl));
    expect(first.get(bundle.entry![0]!.fullUrl!)).toMatch(/^Condition\/[\w-]+$/);
    expect(first.get(bundle.entry![1]!.fullUrl!)).toMatch(/^Provenance\/[\w-]+$/);
    expect(second).toEqual(first);
    expect(await medplum.searchResources('Provenance', {})).toHaveLength(1);
    const [provenance] = await medplum.searchResources('Provenance', {});
    expect(provenance!.target).toEqual([{ reference: first.get(bundle.entry![0]!.fullUrl!) }]);
  });

  test('throws an OperationOutcomeError naming the entry when the server fails one', async () => {
    // Two Conditions with the same key make the conditional update ambiguous (412).
    const duplicate: Condition = {
      resourceType: 'Condition',
      identifier: [{ system: KEY, value: 'c1' }],
      subject: { reference: 'Patient/p1' },
    };
    await medplum.createResource(duplicate);
    await medplum.createResource(duplicate);

    const error = await executeTransaction(medplum, forMedplum(bundle)).then(
      () => undefined,
      (e: unknown) => e
    );

    expect(error).toBeInstanceOf(OperationOutcomeError);
    const texts = (error as OperationOutcomeError).outcome.issue.map((i) => i.details?.text ?? '');
    expect(texts[0]).toMatch(new RegExp(`^PUT Condition\\?identifier=${KEY}\\|c1 failed: 4\\d\\d`));
  });
});
