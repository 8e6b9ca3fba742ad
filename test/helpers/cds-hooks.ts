import Ajv from 'ajv';
import type {
  Bundle,
  Condition,
  MedicationRequest,
  Procedure,
  QuestionnaireResponse,
  Resource,
} from '@medplum/fhirtypes';
import schema from '../fixtures/cds-hooks/cds-hooks-response.schema.json';

const ajv = new Ajv({ allErrors: true });
const validateResponse = ajv.compile(schema);

/** Errors of a CDS Hooks response against the spec's schema (empty when valid). */
export function responseSchemaErrors(body: unknown): string[] {
  if (validateResponse(body)) {
    return [];
  }
  return (validateResponse.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}

export const PATIENT = 'p1';
const ICD10 = 'http://hl7.org/fhir/sid/icd-10-cm';
const SCT = 'http://snomed.info/sct';
const ATC = 'http://www.whocc.no/atc';

export function condition(
  id: string,
  system: string,
  code: string,
  display: string,
  extra: Partial<Condition> = {}
): Condition {
  return {
    resourceType: 'Condition',
    id,
    subject: { reference: `Patient/${PATIENT}` },
    clinicalStatus: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }],
    },
    code: { coding: [{ system, code, display }] },
    ...extra,
  };
}

export function medication(
  id: string,
  code: string,
  display: string,
  status: MedicationRequest['status']
): MedicationRequest {
  return {
    resourceType: 'MedicationRequest',
    id,
    status,
    intent: 'order',
    subject: { reference: `Patient/${PATIENT}` },
    medicationCodeableConcept: { coding: [{ system: ATC, code, display }] },
  };
}

export function procedure(id: string, code: string, display: string): Procedure {
  return {
    resourceType: 'Procedure',
    id,
    status: 'completed',
    subject: { reference: `Patient/${PATIENT}` },
    code: { coding: [{ system: SCT, code, display }] },
  };
}

export function evaluation(id: string, fertilityWish?: boolean): QuestionnaireResponse {
  return {
    resourceType: 'QuestionnaireResponse',
    id,
    questionnaire: 'http://re-fhir.org/fhir/Questionnaire/re-evaluation|0.1.0',
    status: 'completed',
    subject: { reference: `Patient/${PATIENT}` },
    ...(fertilityWish === undefined
      ? {}
      : {
          item: [
            {
              linkId: 'fertility',
              item: [{ linkId: 'fertility-wish', answer: [{ valueBoolean: fertilityWish }] }],
            },
          ],
        }),
  };
}

export function searchset(resources: Resource[]): Bundle {
  return { resourceType: 'Bundle', type: 'searchset', entry: resources.map((resource) => ({ resource })) };
}

/** Record parts used by the scenarios. */
export const RECORD = {
  t2dmNeuropathy: condition(
    'dm',
    ICD10,
    'E11.43',
    'Type 2 diabetes mellitus with diabetic autonomic (poly)neuropathy'
  ),
  ms: condition('ms', SCT, '24700007', 'Multiple sclerosis'),
  paraplegia: condition('para', ICD10, 'G82.21', 'Paraplegia, complete'),
  anejaculation: condition('anej', ICD10, 'N53.13', 'Anejaculatory orgasm'),
  re: condition('re', ICD10, 'N53.14', 'Retrograde ejaculation'),
  infertility: condition('inf', SCT, '2904007', 'Male infertility'),
  turp: procedure('turp', '90199006', 'Transurethral prostatectomy'),
  tamsulosinActive: medication('tam', 'G04CA02', 'tamsulosin', 'active'),
  sertralineDraft: medication('ser', 'N06AB06', 'sertraline', 'draft'),
  imipramineDraft: medication('imi', 'N06AA02', 'imipramine', 'draft'),
} as const;
