import type { BundleEntry, Resource } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { transactionBundle } from '../../../src/core/bundle/transaction';
import { transactionBundle as oracleBundle } from '../operations/oracle/transaction';

/**
 * The transaction's conditional writes against the frozen oracle (the `split('&')` search and the
 * always-replacing escape they replaced), over generated keys and references full of `&`, `=`, `%`,
 * spaces and non-ASCII, including keys that already carry the patient term or a longer one like it.
 */

const RUNS = Number(process.env.PROPERTY_RUNS ?? 500);

const piece = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.constantFrom('Patient/p', 'Patient/p&x', 'a b', '%26', 'é', '=', '&', '')
);
const reference = fc.oneof(piece, fc.constantFrom('Patient/p', 'urn:uuid:1', 'Group/a&b'));
const resource = fc.record(
  {
    resourceType: fc.constantFrom('Condition', 'Observation', 'Task', 'Goal', 'Provenance'),
    id: piece,
    subject: fc.record({ reference }, { requiredKeys: [] }),
    for: fc.record({ reference }, { requiredKeys: [] }),
    patient: fc.record({ reference }, { requiredKeys: [] }),
  },
  { requiredKeys: ['resourceType'] }
);
const condition = fc.oneof(
  fc.array(piece, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('&')),
  fc.constantFrom('identifier=s|1&subject=Patient/p', 'subject=Patient/p', 'subject=Patient/pp')
);
const entry = fc.record(
  { fullUrl: fc.constant('urn:uuid:e'), resource, request: fc.record({ ifNoneExist: condition }) },
  { requiredKeys: ['fullUrl', 'resource'] }
);

function outcome(f: typeof transactionBundle, entries: BundleEntry[]): string {
  try {
    return JSON.stringify(f(entries, new Date('2026-01-01T00:00:00Z')));
  } catch (e) {
    return `throws ${(e as Error).message}`;
  }
}

describe('the transaction Bundle equals its frozen oracle', () => {
  test('on generated entries', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 4 }), (generated) => {
        const entries = generated as unknown as (BundleEntry & { resource: Resource })[];
        expect(outcome(transactionBundle, entries)).toBe(outcome(oracleBundle, entries));
      }),
      { numRuns: RUNS }
    );
  });
});
