import type { Observation, QuestionnaireItem } from '@medplum/fhirtypes';
import { mostRecentObservation, periodStart } from '../../../src/core/populate/observation-link';

const now = new Date('2026-11-27T09:00:00Z');
const UCUM = 'http://unitsofmeasure.org';
const item: QuestionnaireItem = {
  linkId: 'hba1c',
  type: 'decimal',
  code: [{ system: 'http://loinc.org', code: '4548-4' }],
  extension: [
    {
      url: 'http://hl7.org/fhir/StructureDefinition/questionnaire-unit',
      valueCoding: { system: UCUM, code: '%' },
    },
  ],
};
const a1c = (
  id: string,
  when: string,
  value = 7,
  unit = '%',
  status: Observation['status'] = 'final'
): Observation => ({
  resourceType: 'Observation',
  id,
  status,
  code: { coding: [{ system: 'http://loinc.org', code: '4548-4' }] },
  effectiveDateTime: when,
  valueQuantity: { value, unit, system: UCUM, code: unit },
});

describe('periodStart', () => {
  test('months and years step the UTC calendar; days and weeks are fixed', () => {
    expect(periodStart({ value: 6, system: UCUM, code: 'mo' }, now)).toEqual(
      new Date('2026-05-27T09:00:00Z')
    );
    expect(periodStart({ value: 1, system: UCUM, code: 'a' }, now)).toEqual(new Date('2025-11-27T09:00:00Z'));
    expect(periodStart({ value: 2, system: UCUM, code: 'wk' }, now)).toEqual(
      new Date('2026-11-13T09:00:00Z')
    );
  });
  test.each([
    [{ value: 6, code: 'mo' }, 'not a UCUM duration'],
    [{ value: 1.5, system: UCUM, code: 'mo' }, 'not a whole number'],
    [{ value: 3, system: UCUM, code: 'fortnight' }, 'not supported'],
    [{ value: -1, system: UCUM, code: 'd' }, 'not a UCUM duration'],
  ])('%j cannot be used: %s', (duration, reason) => {
    expect(periodStart(duration, now)).toEqual(expect.stringContaining(reason));
  });
});

describe('mostRecentObservation', () => {
  const start = new Date('2026-05-27T09:00:00Z');
  test('the most recent usable one; the period is closed at both ends; the future is out', () => {
    const chosen = mostRecentObservation(
      item,
      [
        a1c('old', '2026-05-27T08:59:59Z'),
        a1c('edge', '2026-05-27T09:00:00Z'),
        a1c('future', '2026-11-27T09:00:01Z'),
      ],
      start,
      now
    );
    expect(chosen.chosen?.observation.id).toBe('edge');
    expect(chosen.skipped).toEqual([]);
  });

  test('a newer Observation in another unit or status is skipped, with its reason', () => {
    const result = mostRecentObservation(
      item,
      [
        a1c('pct', '2026-09-01'),
        a1c('mmol', '2026-10-01', 60, 'mmol/mol'),
        a1c('prelim', '2026-11-01', 6, '%', 'preliminary'),
      ],
      start,
      now
    );
    expect(result.chosen?.observation.id).toBe('pct');
    expect(result.skipped).toEqual([
      'Observation/mmol is in mmol/mol, not % (no conversion is made)',
      'Observation/prelim has status preliminary',
    ]);
  });

  test('equal times: the lower id wins, whatever the order given', () => {
    const one = mostRecentObservation(item, [a1c('b', '2026-09-01'), a1c('a', '2026-09-01')], start, now);
    const two = mostRecentObservation(item, [a1c('a', '2026-09-01'), a1c('b', '2026-09-01')], start, now);
    expect([one.chosen?.observation.id, two.chosen?.observation.id]).toEqual(['a', 'a']);
  });

  test('another code, another resource type or no value: not a candidate', () => {
    const other = {
      ...a1c('glucose', '2026-09-01'),
      code: { coding: [{ system: 'http://loinc.org', code: '2345-7' }] },
    };
    const noValue = { ...a1c('none', '2026-09-01'), valueQuantity: undefined };
    const result = mostRecentObservation(
      item,
      [other, { resourceType: 'Condition', id: 'c' }, noValue],
      start,
      now
    );
    expect(result.chosen).toBeUndefined();
    expect(result.skipped).toEqual(['Observation/none has no numeric valueQuantity']);
  });
});
