import type {
  Bundle,
  CarePlan,
  Condition,
  Observation,
  RequestGroup,
  RequestGroupAction,
  Resource,
} from '@medplum/fhirtypes';
import fc from 'fast-check';
import { RULE_EXTENSION } from '../../../src/core/constants';
import { evaluateResponse } from '../../../src/core/operations/evaluate';
import { extractOperation } from '../../../src/core/operations/extract';
import { testEngine } from '../../helpers/engine';
import { validReResponse } from '../../helpers/re-response-arbitrary';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 60);
const ICD10 = 'http://hl7.org/fhir/sid/icd-10-cm';

const resources = (bundle: Bundle): Resource[] => (bundle.entry ?? []).map((e) => e.resource as Resource);
const ofType = <T extends Resource>(bundle: Bundle, type: T['resourceType']): T[] =>
  resources(bundle).filter((r): r is T => r.resourceType === type);
const icd10 = (c: Condition): string[] =>
  (c.code?.coding ?? []).filter((x) => x.system === ICD10).map((x) => x.code!);
const answer = (qr: { item?: unknown[] }, linkId: string): unknown[] => {
  const found: unknown[] = [];
  const walk = (items: unknown[] | undefined): void => {
    for (const item of (items ?? []) as {
      linkId: string;
      answer?: Record<string, unknown>[];
      item?: unknown[];
    }[]) {
      if (item.linkId === linkId) {
        found.push(...(item.answer ?? []).map((a) => Object.values(a)[0]));
      }
      walk(item.item);
    }
  };
  walk(qr.item);
  return found;
};

/**
 * "Same dysfunction", for the ICD-10-CM Excludes1 notes at N52 (F52.21), N53 (F52.-) and N53.1
 * (F52.4): erection (N52.x organic, F52.2x psychogenic) and emission/expulsion of semen (N53.1x
 * organic, F52.3x psychogenic) each take organic or psychogenic codes, never both in one
 * evaluation; premature ejaculation is always F52.4 and its Condition never carries N53.1x.
 * Different dysfunctions may coexist: retrograde ejaculation (N53.14) with premature ejaculation
 * (F52.4), or with psychogenic erectile dysfunction (F52.21).
 */
const DYSFUNCTION_CLASSES: Record<string, { organic: RegExp; psychogenic: RegExp }> = {
  erection: { organic: /^N52\./, psychogenic: /^F52\.2/ },
  'emission or expulsion': { organic: /^N53\.1/, psychogenic: /^F52\.3/ },
};
const PREMATURE_EJACULATION_SCT = '44001008';

describe('evaluation properties over responses valid against the Questionnaire', () => {
  const deps = testEngine();

  test('evaluation never throws, and every output is traceable, coded within the evidence and keyed idempotently', () => {
    fc.assert(
      fc.property(validReResponse(), (qr) => {
        const { bundle } = evaluateResponse(qr, testEngine());
        const conditions = ofType<Condition>(bundle, 'Condition');
        const urls = new Set((bundle.entry ?? []).map((e) => e.fullUrl));

        for (const c of conditions) {
          // Every Condition names one rule and points at its evidence in this response.
          expect(c.extension?.filter((e) => e.url === RULE_EXTENSION)).toHaveLength(1);
          expect(c.evidence?.length).toBeGreaterThan(0);
          for (const detail of (c.evidence ?? []).flatMap((e) => e.detail ?? [])) {
            expect(detail.reference === `QuestionnaireResponse/${qr.id}` || urls.has(detail.reference)).toBe(
              true
            );
          }
          // Screens (ED, PE) and reported history are never confirmed.
          const status = c.verificationStatus?.coding?.[0]?.code;
          if (!icd10(c).includes('N53.14')) {
            expect(status).not.toBe('confirmed');
          }
        }

        // Confirmed retrograde ejaculation needs sperm in the PEU recorded by a practitioner.
        const re = conditions.find((c) => icd10(c).includes('N53.14'));
        if (re?.verificationStatus?.coding?.[0]?.code === 'confirmed') {
          expect(answer(qr, 'peu-sperm-seen')).toEqual([true]);
          const investigations = qr.item?.find((i) => i.linkId === 'investigations');
          expect(
            investigations?.extension !== undefined || qr.author?.reference?.startsWith('Practitioner/')
          ).toBe(true);
        }
        // No retrograde ejaculation Condition from a first negative PEU.
        if (qr.status === 'completed' && answer(qr, 'peu-sperm-seen')[0] === false) {
          expect(re).toBeUndefined();
        }

        // Excludes1: never an organic and a psychogenic code for the same dysfunction.
        const codes = conditions.flatMap(icd10);
        for (const cls of Object.values(DYSFUNCTION_CLASSES)) {
          expect(codes.some((x) => cls.organic.test(x)) && codes.some((x) => cls.psychogenic.test(x))).toBe(
            false
          );
        }
        for (const pe of conditions.filter((c) =>
          c.code?.coding?.some((x) => x.code === PREMATURE_EJACULATION_SCT)
        )) {
          expect(icd10(pe)).toEqual(['F52.4']);
        }
        // F52.21 only when the clinician judged the erectile dysfunction psychogenic.
        if (codes.includes('F52.21')) {
          expect(answer(qr, 'ed-aetiology')).toEqual([expect.objectContaining({ code: 'psychogenic' })]);
        }

        // Every CarePlan activity is the RequestGroup; every request sits in exactly one applied action with a rule.
        const carePlans = ofType<CarePlan>(bundle, 'CarePlan');
        expect(carePlans.length).toBeLessThanOrEqual(1);
        for (const plan of carePlans) {
          const groups = ofType<RequestGroup>(bundle, 'RequestGroup');
          expect(plan.activity?.map((a) => a.reference?.reference)).toEqual(
            groups.map((g) => (bundle.entry ?? []).find((e) => e.resource === g)?.fullUrl)
          );
          const actions: RequestGroupAction[] = [];
          const walk = (list: RequestGroupAction[] | undefined): void => {
            for (const a of list ?? []) {
              actions.push(a);
              walk(a.action);
            }
          };
          walk(groups[0]?.action);
          const requestUrls = (bundle.entry ?? [])
            .filter((e) =>
              ['ServiceRequest', 'MedicationRequest', 'CommunicationRequest', 'Task'].includes(
                e.resource!.resourceType
              )
            )
            .map((e) => e.fullUrl);
          const referenced = actions.flatMap((a) => (a.resource?.reference ? [a.resource.reference] : []));
          expect([...referenced].sort()).toEqual([...requestUrls].sort());
          for (const a of actions.filter((x) => x.resource)) {
            expect(a.extension?.some((e) => e.url === RULE_EXTENSION)).toBe(true);
          }
        }

        // Every write is idempotent: a conditional update or a PUT by id.
        for (const entry of bundle.entry ?? []) {
          expect(entry.request?.method).toBe('PUT');
        }
      }),
      { numRuns: RUNS }
    );
  });

  test('evaluation is deterministic, and extracting twice gives the same conditional keys', () => {
    fc.assert(
      fc.property(validReResponse(), (qr) => {
        expect(evaluateResponse(qr, testEngine()).bundle).toEqual(evaluateResponse(qr, testEngine()).bundle);
        const keys = (): (string | undefined)[] =>
          (extractOperation(qr, deps).bundle.entry ?? []).map((e) => e.request?.ifNoneExist);
        expect(keys()).toEqual(keys());
      }),
      { numRuns: Math.ceil(RUNS / 3) }
    );
  });

  test('an Observation is extracted for every answered result item, and only then', () => {
    fc.assert(
      fc.property(validReResponse(), (qr) => {
        const { bundle } = evaluateResponse(qr, testEngine());
        const observed = new Set(
          ofType<Observation>(bundle, 'Observation').map((o) =>
            o.identifier?.[0]?.value?.replace(`${qr.id}-obs-`, '')
          )
        );
        for (const linkId of [
          'semen-volume',
          'sperm-concentration',
          'peu-sperm-seen',
          'hba1c',
          'shim-total',
          'pedt-total',
        ]) {
          expect(observed.has(linkId)).toBe(answer(qr, linkId).length > 0);
        }
      }),
      { numRuns: Math.ceil(RUNS / 3) }
    );
  });
});
