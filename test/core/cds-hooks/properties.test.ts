/**
 * Properties of the two rules over generated records, against a table of what each record part means
 * (written here from docs/cds-hooks.md, not from the PlanDefinitions), and the docs example against the code.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { Resource } from '@medplum/fhirtypes';
import { cdsHook } from '../../../src';
import { responseSchemaErrors, evaluation, PATIENT, RECORD, searchset } from '../../helpers/cds-hooks';
import { testEngine } from '../../helpers/engine';

const engine = testEngine();
const VER = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';
const CLIN = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
const refuted = <T extends Resource>(r: T): T => ({
  ...r,
  verificationStatus: { coding: [{ system: VER, code: 'refuted' }] },
});
const resolved = <T extends Resource>(r: T): T => ({
  ...r,
  clinicalStatus: { coding: [{ system: CLIN, code: 'resolved' }] },
});

// [record part, does it count?]
const RISK_CONDITIONS: [Resource[], boolean][] = [
  [[], false],
  [[RECORD.t2dmNeuropathy], true],
  [[RECORD.ms], true],
  [[RECORD.paraplegia], true],
  [[refuted(RECORD.ms)], false],
  [[resolved(RECORD.paraplegia)], false],
];
const SURGERIES: [Resource[], boolean][] = [
  [[], false],
  [[RECORD.turp], true],
  [[{ ...RECORD.turp, status: 'not-done' } as Resource], false],
];
const DRUGS: [Resource[], boolean][] = [
  [[], false],
  [[RECORD.tamsulosinActive], true],
  [[{ ...RECORD.tamsulosinActive, status: 'stopped' } as Resource], false],
  [[{ ...RECORD.imipramineDraft, status: 'active' } as Resource], false],
];
const FINDINGS: [Resource[], boolean][] = [
  [[], false],
  [[RECORD.anejaculation], true],
  [[RECORD.re], true],
  [[RECORD.infertility], true],
  [[refuted(RECORD.anejaculation)], false],
];
const EVALUATIONS: [Resource[], boolean][] = [
  [[], false],
  [[evaluation('qr1')], true],
  [[{ ...evaluation('qr2'), status: 'amended' } as Resource], true],
  [[{ ...evaluation('qr3'), status: 'in-progress' } as Resource], false],
];
// For order-sign: [draft orders, is one a listed risk drug?] and [record, a reason?]
const ORDERS: [Resource[], boolean][] = [
  [[RECORD.sertralineDraft], true],
  [[RECORD.imipramineDraft], false],
  [[{ ...RECORD.sertralineDraft, status: 'active' } as Resource], false],
  [[RECORD.imipramineDraft, { ...RECORD.tamsulosinActive, id: 't2', status: 'draft' } as Resource], true],
];
const REASONS: [Resource[], Resource[], boolean][] = [
  [[], [], false],
  [[RECORD.re], [], true],
  [[RECORD.infertility], [], true],
  [[RECORD.anejaculation], [], false],
  [[resolved(RECORD.re)], [], false],
  [[], [evaluation('qr9', true)], true],
  [[], [evaluation('qr9', false)], false],
  [[], [{ ...evaluation('qr9', true), status: 'in-progress' } as Resource], false],
];

const pick = <T>(list: readonly T[]): fc.Arbitrary<T> => fc.constantFrom(...list);

describe('rule properties over generated records', () => {
  test('patient-view: a card exactly when a risk factor and a finding are recorded and no evaluation', () => {
    fc.assert(
      fc.property(
        pick(RISK_CONDITIONS),
        pick(SURGERIES),
        pick(DRUGS),
        pick(FINDINGS),
        pick(EVALUATIONS),
        (risk, surgery, drug, finding, evaluated) => {
          const response = cdsHook(
            're-cds-patient-view',
            {
              hook: 'patient-view',
              hookInstance: 'h',
              context: { patientId: PATIENT },
              prefetch: {
                conditions: searchset([...risk[0], ...finding[0]]),
                procedures: searchset(surgery[0]),
                medications: searchset(drug[0]),
                evaluations: searchset(evaluated[0]),
              },
            },
            { engine }
          );
          expect(responseSchemaErrors(response)).toEqual([]);
          const expected = (risk[1] || surgery[1] || drug[1]) && finding[1] && !evaluated[1];
          expect(response.cards.map((c) => c.source.topic?.code)).toEqual(expected ? ['R1'] : []);
        }
      ),
      { numRuns: 120 }
    );
  });

  test('order-sign: a card exactly when a listed drug is ordered and a reason is recorded', () => {
    fc.assert(
      fc.property(pick(ORDERS), pick(REASONS), (orders, reason) => {
        const response = cdsHook(
          're-cds-order-sign',
          {
            hook: 'order-sign',
            hookInstance: 'h',
            context: { patientId: PATIENT, draftOrders: searchset(orders[0]) },
            prefetch: { conditions: searchset(reason[0]), evaluations: searchset(reason[1]) },
          },
          { engine }
        );
        expect(responseSchemaErrors(response)).toEqual([]);
        expect(response.cards.map((c) => [c.indicator, c.source.topic?.code])).toEqual(
          orders[1] && reason[2] ? [['warning', 'R7']] : []
        );
      }),
      { numRuns: 60 }
    );
  });
});

describe('docs/cds-hooks.md', () => {
  test('its request gives exactly its card (uuid aside)', () => {
    const page = readFileSync(join(__dirname, '../../../docs/cds-hooks.md'), 'utf8');
    const section = page.slice(page.indexOf('## A request and its card'));
    const [request, response] = [...section.matchAll(/```json\n([\s\S]*?)```/g)].map(
      (m) => JSON.parse(m[1]!) as unknown
    );
    const actual = cdsHook('re-cds-patient-view', request, {
      engine,
      launchUrl: 'https://re.example.org/launch.html',
    });
    const documented = response as typeof actual;
    expect({ cards: actual.cards.map((c) => ({ ...c, uuid: 'x' })) }).toEqual({
      cards: documented.cards.map((c) => ({ ...c, uuid: 'x' })),
    });
  });
});
