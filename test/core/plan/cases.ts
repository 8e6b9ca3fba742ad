import type {
  Bundle,
  Coding,
  Condition,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
} from '@medplum/fhirtypes';

/** Code systems the case features use. */
export const VER_STATUS = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';
export const FINDING = 'http://re-fhir.org/fhir/CodeSystem/re-finding';
export const EXTRACTION = 'http://re-fhir.org/fhir/sid/extraction';

/** A case feature's answer: a boolean, or a Coding for the coded features. */
export type FeatureValue = boolean | Coding;

/** An extracted Condition, by its identifier key (e.g. `R1-re`, `RF-sci`) and verification status. */
export interface ExtractedCondition {
  readonly key: string;
  readonly status?:
    'provisional' | 'confirmed' | 'unconfirmed' | 'differential' | 'refuted' | 'entered-in-error';
}

/** A listed risk drug (one instance of the repeating medications group). */
export interface ListedDrug {
  readonly code: string;
  readonly display?: string;
  readonly stoppable: boolean;
}

/** What a hand-built evaluation holds. */
export interface CaseSpec {
  readonly features?: Readonly<Record<string, FeatureValue>>;
  readonly conditions?: readonly ExtractedCondition[];
  readonly drugs?: readonly ListedDrug[];
}

export const QR_ID = 'qr-1';
export const QR_URL = 'urn:uuid:10000000-0000-4000-8000-000000000001';

/** fullUrl of the extracted Condition with the given key. */
export function conditionUrl(key: string): string {
  const n = [...key].reduce((sum, ch) => sum * 31 + ch.charCodeAt(0), 7) % 1e12;
  return `urn:uuid:20000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
}

export const status = (code: string): Coding => ({ system: VER_STATUS, code });
export const finding = (code: string): Coding => ({ system: FINDING, code });

/**
 * Builds the `$apply` data Bundle of a case: the QuestionnaireResponse (case features as direct
 * children of group `case-features`; listed drugs in a repeating group nested under risk factors) and
 * the extracted Conditions, each entry with a fullUrl.
 * @param spec - the case
 */
export function caseData(spec: CaseSpec): Bundle {
  const featureItems: QuestionnaireResponseItem[] = Object.entries(spec.features ?? {}).map(
    ([linkId, value]) => ({
      linkId,
      answer: [typeof value === 'boolean' ? { valueBoolean: value } : { valueCoding: value }],
    })
  );
  const drugGroups: QuestionnaireResponseItem[] = (spec.drugs ?? []).map((drug) => ({
    linkId: 'medications',
    item: [
      {
        linkId: 'medication',
        answer: [
          {
            valueCoding: {
              system: 'http://www.whocc.no/atc',
              code: drug.code,
              ...(drug.display ? { display: drug.display } : {}),
            },
          },
        ],
      },
      { linkId: 'medication-stoppable', answer: [{ valueBoolean: drug.stoppable }] },
    ],
  }));
  const qr: QuestionnaireResponse = {
    resourceType: 'QuestionnaireResponse',
    id: QR_ID,
    questionnaire: 'http://re-fhir.org/fhir/Questionnaire/re-evaluation|0.1.0',
    status: 'completed',
    subject: { reference: 'Patient/p1' },
    authored: '2026-11-27T09:00:00Z',
    item: [
      { linkId: 'fertility', item: [{ linkId: 'fertility-wish', answer: [{ valueBoolean: false }] }] },
      ...(drugGroups.length > 0 ? [{ linkId: 'risk-factors', item: drugGroups }] : []),
      ...(featureItems.length > 0 ? [{ linkId: 'case-features', item: featureItems }] : []),
    ],
  };
  const conditions = (spec.conditions ?? []).map((c) => {
    const condition: Condition = {
      resourceType: 'Condition',
      identifier: [{ system: EXTRACTION, value: `${QR_ID}-${c.key}` }],
      ...(c.status ? { verificationStatus: { coding: [status(c.status)] } } : {}),
      subject: { reference: 'Patient/p1' },
    };
    return { fullUrl: conditionUrl(c.key), resource: condition };
  });
  return {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [{ fullUrl: QR_URL, resource: qr }, ...conditions],
  };
}
