import { OperationOutcomeError } from '@medplum/core';
import type { Bundle, BundleEntry, Condition } from '@medplum/fhirtypes';
import type { MockClient } from '@medplum/mock';
import { PROVENANCE_KEY_SYSTEM } from '../../src/core/bundle/provenance';
import { executeTransaction, MEDPLUM_MAX_TRANSACTION_ENTRIES, writeTransaction } from '../../src/bot/write';
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
        meta: {
          profile: ['http://example.org/StructureDefinition/p'],
          tag: [{ system: PROVENANCE_KEY_SYSTEM, code: '5d0c3f5e-0000-5000-8000-000000000002' }],
        },
        target: [{ reference: 'urn:uuid:00000000-0000-4000-8000-000000000001' }],
        recorded: '2026-11-27T09:00:00Z',
        agent: [{ who: { reference: 'Practitioner/x' } }],
      },
      request: {
        method: 'PUT',
        url: `Provenance?_tag=${PROVENANCE_KEY_SYSTEM}|5d0c3f5e-0000-5000-8000-000000000002`,
      },
    },
  ],
};

describe('executeTransaction', () => {
  let medplum: MockClient;

  beforeAll(async () => {
    medplum = await indexedMockClient();
  });

  beforeEach(() => {
    medplum.repo.clear();
  });

  test('returns where each entry was written, and a second run writes to the same places', async () => {
    const first = await executeTransaction(medplum, bundle);
    const second = await executeTransaction(medplum, bundle);
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

    const error = await executeTransaction(medplum, bundle).then(
      () => undefined,
      (e: unknown) => e
    );

    expect(error).toBeInstanceOf(OperationOutcomeError);
    const texts = (error as OperationOutcomeError).outcome.issue.map((i) => i.details?.text ?? '');
    expect(texts[0]).toMatch(new RegExp(`^PUT Condition\\?identifier=${KEY}\\|c1 failed: 4\\d\\d`));
  });
});

describe('writeTransaction, on Medplum with transactions enabled', () => {
  let medplum: MockClient;

  beforeAll(async () => {
    medplum = await indexedMockClient({ transactions: true });
  });

  beforeEach(() => {
    medplum.repo.clear();
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  const fullUrl = (n: number): string => `urn:uuid:00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

  /** `n` Conditions, then a Provenance (keyed by a tag, as the engine writes it) targeting them all. */
  function chain(n: number): Bundle {
    const conditions: BundleEntry[] = Array.from({ length: n }, (_, i) => ({
      fullUrl: fullUrl(i + 1),
      resource: {
        resourceType: 'Condition',
        identifier: [{ system: KEY, value: `c${i + 1}` }],
        subject: { reference: 'Patient/p1' },
      },
      request: { method: 'PUT', url: `Condition?identifier=${KEY}|c${i + 1}` },
    }));
    const provenanceId = '5d0c3f5e-0000-5000-8000-000000000099';
    return {
      resourceType: 'Bundle',
      type: 'transaction',
      // The Provenance first: the writer must still send it after its targets.
      entry: [
        {
          fullUrl: `urn:uuid:${provenanceId}`,
          resource: {
            resourceType: 'Provenance',
            meta: { tag: [{ system: PROVENANCE_KEY_SYSTEM, code: provenanceId }] },
            target: conditions.map((c) => ({ reference: c.fullUrl })),
            recorded: '2026-11-27T09:00:00Z',
            agent: [{ who: { reference: 'Practitioner/x' } }],
          },
          request: { method: 'PUT', url: `Provenance?_tag=${PROVENANCE_KEY_SYSTEM}|${provenanceId}` },
        },
        ...conditions,
      ],
    };
  }

  test("is Medplum's limit on a transaction with conditional writes: 8 entries", async () => {
    // The reason for the writer: one entry more and Medplum refuses the whole transaction.
    const refused = await medplum.executeBatch(chain(MEDPLUM_MAX_TRANSACTION_ENTRIES)).then(
      () => undefined,
      (e: unknown) => e
    );
    expect((refused as OperationOutcomeError).outcome.issue[0]!.details?.text).toBe(
      'Transaction requires strict isolation but has too many entries'
    );
    await expect(medplum.executeBatch(chain(MEDPLUM_MAX_TRANSACTION_ENTRIES - 1))).resolves.toMatchObject({
      type: 'transaction-response',
    });
  });

  test('sends a Bundle over the limit as transactions of at most 8, each after what it references', async () => {
    const executeBatch = jest.spyOn(medplum, 'executeBatch');
    const bundle = chain(20);

    const written = await writeTransaction(medplum, bundle);

    const sent = executeBatch.mock.calls.map(([b]) => b);
    expect(sent.map((b) => b.entry!.length)).toEqual([8, 8, 5]);
    expect(sent.every((b) => b.type === 'transaction')).toBe(true);
    // The Provenance goes last, its targets rewritten to the ids Medplum gave the Conditions.
    const provenance = sent[2]!.entry!.at(-1)!.resource as {
      resourceType: string;
      target: { reference: string }[];
    };
    expect(provenance.resourceType).toBe('Provenance');
    const conditionFullUrls = bundle.entry!.slice(1).map((e) => e.fullUrl!);
    expect(provenance.target.map((t) => t.reference)).toEqual([
      ...conditionFullUrls.slice(0, 16).map((u) => written.get(u)),
      ...conditionFullUrls.slice(16),
    ]);
    expect([...written.keys()].sort()).toEqual(bundle.entry!.map((e) => e.fullUrl).sort());

    const [stored] = await medplum.searchResources('Provenance', {});
    const conditions = await medplum.searchResources('Condition', { _count: '100' });
    expect(conditions).toHaveLength(20);
    expect(stored!.target!.map((t) => t.reference).sort()).toEqual(
      conditions.map((c) => `Condition/${c.id}`).sort()
    );
  });

  test('writes to the same places when run again', async () => {
    const first = await writeTransaction(medplum, chain(20));
    const second = await writeTransaction(medplum, chain(20));
    expect(second).toEqual(first);
    expect(await medplum.searchResources('Condition', { _count: '100' })).toHaveLength(20);
    expect(await medplum.searchResources('Provenance', {})).toHaveLength(1);
  });

  test("stops at a refused transaction with the server's OperationOutcome, then where it stopped", async () => {
    // Two Conditions with the key c10 make that conditional update ambiguous: Medplum refuses the
    // second transaction (c9–c16) before writing any of it.
    const duplicate: Condition = {
      resourceType: 'Condition',
      identifier: [{ system: KEY, value: 'c10' }],
      subject: { reference: 'Patient/p1' },
    };
    await medplum.createResource(duplicate);
    await medplum.createResource(duplicate);
    const executeBatch = jest.spyOn(medplum, 'executeBatch');

    const error = await writeTransaction(medplum, chain(20)).then(
      () => undefined,
      (e: unknown) => e
    );

    expect(error).toBeInstanceOf(OperationOutcomeError);
    const issues = (error as OperationOutcomeError).outcome.issue;
    expect(issues[0]).toMatchObject({
      severity: 'error',
      details: { text: 'Conditional PUT matched multiple resources' },
    });
    expect(issues.at(-1)).toMatchObject({ severity: 'information', code: 'informational' });
    expect(issues.at(-1)!.details?.text).toMatch(
      /^Transaction 2 of 3 failed, after the transactions before it wrote 8 resources; the ones after it were not sent\./
    );
    expect(issues.at(-1)!.diagnostics).toContain(`PUT Condition?identifier=${KEY}|c10`);
    expect(executeBatch).toHaveBeenCalledTimes(2);
    const stored = await medplum.searchResources('Condition', { _count: '100' });
    expect(stored.map((c) => c.identifier![0]!.value).sort()).toEqual(
      ['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8', 'c10', 'c10'].sort()
    );
  });

  test("sends a Bundle that fits as one transaction, and throws the server's refusal of it as it is", async () => {
    const duplicate: Condition = {
      resourceType: 'Condition',
      identifier: [{ system: KEY, value: 'c2' }],
      subject: { reference: 'Patient/p1' },
    };
    await medplum.createResource(duplicate);
    await medplum.createResource(duplicate);
    const executeBatch = jest.spyOn(medplum, 'executeBatch');

    const error = await writeTransaction(medplum, chain(3)).then(
      () => undefined,
      (e: unknown) => e
    );

    expect(executeBatch).toHaveBeenCalledTimes(1);
    expect(executeBatch.mock.calls[0]![0].entry).toHaveLength(4);
    expect((error as OperationOutcomeError).outcome.issue).toEqual([
      expect.objectContaining({
        severity: 'error',
        details: { text: 'Conditional PUT matched multiple resources' },
      }),
    ]);
  });

  test('reports a client error that is not an OperationOutcome as an exception, with where it stopped', async () => {
    let calls = 0;
    const original = medplum.executeBatch.bind(medplum);
    jest.spyOn(medplum, 'executeBatch').mockImplementation((bundle, options) => {
      calls += 1;
      return calls === 3 ? Promise.reject(new TypeError('fetch failed')) : original(bundle, options);
    });

    const error = await writeTransaction(medplum, chain(20)).then(
      () => undefined,
      (e: unknown) => e
    );

    const issues = (error as OperationOutcomeError).outcome.issue;
    expect(issues[0]).toMatchObject({
      severity: 'error',
      code: 'exception',
      details: { text: 'fetch failed' },
    });
    expect(issues[1]!.details?.text).toMatch(
      /^Transaction 3 of 3 failed, after the transactions before it wrote 16 resources/
    );
    expect((error as OperationOutcomeError).cause).toBeInstanceOf(TypeError);
  });
});
