import { createHash } from 'node:crypto';
import fc from 'fast-check';
import type { BundleEntry, Condition, QuestionnaireResponse } from '@medplum/fhirtypes';
import { buildProvenance, PROVENANCE_KEY_SYSTEM, provenanceKey } from '../../../src/core/bundle/provenance';
import { toIdempotentEntry, transactionBundle } from '../../../src/core/bundle/transaction';
import { nameUuid } from '../../../src/core/bundle/uuid';

const response: QuestionnaireResponse = {
  resourceType: 'QuestionnaireResponse',
  id: 'qr1',
  status: 'completed',
  authored: '2026-11-01T10:00:00Z',
  author: { reference: 'Practitioner/dr', display: 'Dr X' },
};

describe('name-based UUIDs', () => {
  test('are stable, version 5 and distinct per name', () => {
    expect(nameUuid('a')).toBe(nameUuid('a'));
    expect(nameUuid('a')).not.toBe(nameUuid('b'));
    expect(nameUuid('a')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  test('are RFC 9562 version 5 UUIDs in the module namespace (vectors from Python uuid.uuid5)', () => {
    expect(nameUuid('QuestionnaireResponse/qr1')).toBe('95134697-2877-59f6-a893-626fd6e6f15a');
    expect(nameUuid('')).toBe('c2331872-d27a-55ed-8fee-81392d31cba4');
    expect(nameUuid('é😀')).toBe('f84db22f-888e-59aa-a0ab-e9c981c5939b');
  });

  test('equal the construction they replaced, for any name', () => {
    // The earlier code, as it was: the namespace decoded per call, the digest sliced before hex.
    const earlier = (name: string): string => {
      const hash = createHash('sha1')
        .update(Buffer.from('5d0c3f5e-8a3b-4c1e-9f61-2b7d4e9a8c10'.replaceAll('-', ''), 'hex'))
        .update(name, 'utf8')
        .digest();
      hash[6] = (hash[6]! & 0x0f) | 0x50;
      hash[8] = (hash[8]! & 0x3f) | 0x80;
      const hex = hash.subarray(0, 16).toString('hex');
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    };
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' })), (name) => {
        expect(nameUuid(name)).toBe(earlier(name));
      }),
      { numRuns: 500 }
    );
  });
});

describe('Provenance of an extraction', () => {
  test('names the response as source, this software as assembler and the author, and targets every resource', () => {
    const p = buildProvenance(response, ['urn:uuid:1', 'urn:uuid:2'], new Date('2026-11-02T00:00:00Z'));
    expect(p).toEqual({
      resourceType: 'Provenance',
      meta: {
        profile: ['http://re-fhir.org/fhir/StructureDefinition/re-provenance'],
        tag: [{ system: PROVENANCE_KEY_SYSTEM, code: provenanceKey(response) }],
      },
      contained: [
        {
          resourceType: 'Device',
          id: 're-fhir',
          deviceName: [{ name: 're-fhir', type: 'manufacturer-name' }],
          version: [{ value: '0.1.0' }],
          url: 'http://re-fhir.org/fhir',
        },
      ],
      target: [{ reference: 'urn:uuid:1' }, { reference: 'urn:uuid:2' }],
      occurredDateTime: '2026-11-01T10:00:00Z',
      recorded: '2026-11-02T00:00:00.000Z',
      activity: {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation',
            code: 'CREATE',
            display: 'create',
          },
        ],
      },
      agent: [
        {
          type: {
            coding: [
              {
                system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type',
                code: 'assembler',
                display: 'Assembler',
              },
            ],
          },
          who: { reference: '#re-fhir', display: 're-fhir 0.1.0' },
        },
        {
          type: {
            coding: [
              {
                system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type',
                code: 'author',
                display: 'Author',
              },
            ],
          },
          who: { reference: 'Practitioner/dr', display: 'Dr X' },
        },
      ],
      entity: [{ role: 'source', what: { reference: 'QuestionnaireResponse/qr1' } }],
    });
  });

  test('regression: an author Reference with only extensions gives no author agent, not an empty who (500)', () => {
    const extensionOnly = buildProvenance(
      { ...response, author: { extension: [{ url: 'http://example.org/x', valueString: 'y' }] } },
      ['urn:uuid:1'],
      new Date('2026-11-02T00:00:00Z')
    );
    expect(extensionOnly.agent.map((a) => a.type?.coding?.[0]?.code)).toEqual(['assembler']);
    const named = buildProvenance(response, ['urn:uuid:1'], new Date('2026-11-02T00:00:00Z'));
    expect(named.agent.map((a) => a.type?.coding?.[0]?.code)).toEqual(['assembler', 'author']);
  });

  test('keeps its key for a resubmission and changes it for an amendment', () => {
    expect(provenanceKey({ ...response })).toBe(provenanceKey(response));
    expect(provenanceKey({ ...response, status: 'amended', authored: '2026-11-05T10:00:00Z' })).not.toBe(
      provenanceKey(response)
    );
  });
});

describe('idempotent transaction entries', () => {
  const condition = { resourceType: 'Condition', subject: { reference: 'Patient/p' } } as const;

  test('turn a conditional create into a conditional update on the same search', () => {
    const entry: BundleEntry = {
      fullUrl: 'urn:uuid:1',
      resource: condition,
      request: { method: 'POST', url: 'Condition', ifNoneExist: 'identifier=s|qr1-R1' },
    };
    expect(toIdempotentEntry(entry)).toEqual({
      fullUrl: 'urn:uuid:1',
      resource: condition,
      request: { method: 'PUT', url: 'Condition?identifier=s|qr1-R1&subject=Patient/p' },
    });
  });

  test('write a resource with an id by PUT to its id', () => {
    const entry: BundleEntry = {
      fullUrl: 'urn:uuid:2',
      resource: { ...response },
      request: { method: 'POST', url: 'X' },
    };
    expect(toIdempotentEntry(entry).request).toEqual({ method: 'PUT', url: 'QuestionnaireResponse/qr1' });
  });

  test('refuse a blind create', () => {
    expect(() =>
      toIdempotentEntry({
        fullUrl: 'urn:uuid:3',
        resource: condition,
        request: { method: 'POST', url: 'Condition' },
      })
    ).toThrow('Entry urn:uuid:3 (Condition) has neither a conditional key nor an id');
  });

  test('assemble a transaction with a timestamp', () => {
    const entry: BundleEntry = {
      fullUrl: 'urn:uuid:4',
      resource: { ...response },
      request: { method: 'PUT', url: 'X' },
    };
    expect(transactionBundle([entry], new Date('2026-11-02T00:00:00Z'))).toEqual({
      resourceType: 'Bundle',
      type: 'transaction',
      timestamp: '2026-11-02T00:00:00.000Z',
      entry: [toIdempotentEntry(entry)],
    });
  });

  test('regression: a transaction without entries has no entry list (FHIR arrays are never empty)', () => {
    expect(transactionBundle([], new Date('2026-11-02T00:00:00Z'))).toEqual({
      resourceType: 'Bundle',
      type: 'transaction',
      timestamp: '2026-11-02T00:00:00.000Z',
    });
  });
});

describe('write keys are bound to the patient', () => {
  const keyed = (resource: BundleEntry['resource']): string =>
    toIdempotentEntry({
      fullUrl: 'urn:uuid:5',
      resource,
      request: { method: 'POST', url: 'X', ifNoneExist: 'identifier=s|qr1-R1' },
    }).request!.url;

  test('regression (cross-patient overwrite): the same identifier for two patients is two different searches', () => {
    const a = keyed({ resourceType: 'Condition', subject: { reference: 'Patient/a' } } as Condition);
    const b = keyed({ resourceType: 'Condition', subject: { reference: 'Patient/b' } } as Condition);
    expect(a).toBe('Condition?identifier=s|qr1-R1&subject=Patient/a');
    expect(b).toBe('Condition?identifier=s|qr1-R1&subject=Patient/b');
  });

  test('a Task is narrowed by its `for`, and a reference cannot smuggle another search term', () => {
    expect(
      keyed({ resourceType: 'Task', status: 'requested', intent: 'order', for: { reference: 'Patient/a' } })
    ).toBe('Task?identifier=s|qr1-R1&subject=Patient/a');
    expect(
      keyed({ resourceType: 'Condition', subject: { reference: 'Patient/a&subject=Patient/b' } } as Condition)
    ).toBe('Condition?identifier=s|qr1-R1&subject=Patient/a%26subject%3DPatient/b');
  });

  test('the Provenance key differs between patients for the same response id and time', () => {
    expect(provenanceKey({ ...response, subject: { reference: 'Patient/a' } })).not.toBe(
      provenanceKey({ ...response, subject: { reference: 'Patient/b' } })
    );
  });
});
