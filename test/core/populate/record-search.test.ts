import type { Resource } from '@medplum/fhirtypes';
import { searchRecord, UnsupportedSearch } from '../../../src/core/populate';

const obs = (id: string, patient: string, code: string, when?: string): Resource =>
  ({
    resourceType: 'Observation',
    id,
    status: 'final',
    subject: { reference: patient },
    code: { coding: [{ system: 'http://loinc.org', code }] },
    ...(when ? { effectiveDateTime: when } : {}),
  }) as Resource;

const record: Resource[] = [
  obs('a', 'Patient/p', '4548-4', '2026-10-01'),
  obs('b', 'Patient/p', '4548-4', '2026-11-20T08:00:00Z'),
  obs('c', 'https://ehr.example.org/fhir/Patient/p', '2345-7', '2026-05-01'),
  obs('d', 'Patient/q', '4548-4', '2026-11-21'),
  obs('e', 'Patient/p', '4548-4'),
  { resourceType: 'Condition', id: 'x', subject: { reference: 'Patient/p' } } as Resource,
];
const ids = (query: string): string[] =>
  (searchRecord(record, query).entry ?? []).map((e) => e.resource!.id!);

describe('the in-memory search implements the parameters the content uses', () => {
  test('patient: Patient/{id} or {id}, relative or absolute references; never another patient', () => {
    expect(ids('Observation?patient=Patient/p')).toEqual(['a', 'b', 'c', 'e']);
    expect(ids('Observation?subject=p')).toEqual(['a', 'b', 'c', 'e']);
    expect(ids('Observation?patient=Patient/q')).toEqual(['d']);
  });

  test('code: system|code, a comma is "or", a code alone matches any system', () => {
    expect(ids('Observation?patient=Patient/p&code=http://loinc.org|2345-7')).toEqual(['c']);
    expect(ids('Observation?patient=Patient/p&code=http://other|2345-7')).toEqual([]);
    expect(ids('Observation?patient=Patient/p&code=2345-7,http://loinc.org|4548-4')).toEqual([
      'a',
      'b',
      'c',
      'e',
    ]);
  });

  test('date with prefixes: a resource without a date never matches', () => {
    expect(ids('Observation?patient=Patient/p&date=ge2026-10-01')).toEqual(['a', 'b']);
    expect(ids('Observation?patient=Patient/p&date=gt2026-10-01')).toEqual(['b']);
    expect(ids('Observation?patient=Patient/p&date=lt2026-10-01&date=ge2026-01-01')).toEqual(['c']);
    expect(ids('Observation?patient=Patient/p&date=ge2026-11-20T07:59:59Z')).toEqual(['b']);
  });

  test('_sort=-date puts the newest first (undated last); _count keeps the first n', () => {
    expect(ids('Observation?patient=Patient/p&_sort=-date')).toEqual(['b', 'a', 'c', 'e']);
    expect(ids('Observation?patient=Patient/p&_sort=date&_count=2')).toEqual(['e', 'c']);
  });

  test('status and clinical-status', () => {
    expect(ids('Observation?status=final,amended&patient=Patient/q')).toEqual(['d']);
    expect(ids('Observation?status=preliminary')).toEqual([]);
  });

  test.each([
    ['an unknown parameter', 'Observation?patient=Patient/p&category=laboratory'],
    ['a modifier', 'Observation?code:in=http://example.org/ValueSet/x'],
    ['a date without a date', 'Observation?date=ge-yesterday'],
    ['an unsupported sort', 'Observation?_sort=code'],
    ['code on a type without one here', 'Patient?code=x'],
    ['not a search', 'http://example.org/fhir/Observation?patient=p'],
  ])('%s is refused, not ignored', (_, query) => {
    expect(() => searchRecord(record, query)).toThrow(UnsupportedSearch);
  });
});
