import type {
  Expression,
  Extension,
  Questionnaire,
  QuestionnaireItem,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
} from '@medplum/fhirtypes';
import intakeJson from '../../fixtures/questionnaires/Questionnaire-test-intake.json';
import type { ValueSetMembership } from '../../../src/core/response/validate-response';

export const CS = 'http://example.org/fhir/CodeSystem/test-answers';
export const ATC = 'http://www.whocc.no/atc';
export const MEDICATIONS_VS = 'http://example.org/fhir/ValueSet/medications';
export const SDC = 'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-';

/** The realistic test Questionnaire (a fresh copy). */
export function intake(): Questionnaire {
  return structuredClone(intakeJson) as Questionnaire;
}

/** One shared instance, for tests that rely on the compile cache. */
export const INTAKE = intake();

/** A response to the intake form that breaks no rule (calculated items left out). */
export function validIntakeResponse(): QuestionnaireResponse {
  return {
    resourceType: 'QuestionnaireResponse',
    id: 'qr-1',
    status: 'completed',
    questionnaire: 'http://example.org/fhir/Questionnaire/test-intake|1.0.0',
    subject: { reference: 'Patient/p-1' },
    authored: '2026-11-27T10:00:00Z',
    item: [
      {
        linkId: 'demographics',
        text: 'About you',
        item: [
          { linkId: 'name', text: 'Name', answer: [{ valueString: 'Alex' }] },
          { linkId: 'age', text: 'Age (years)', answer: [{ valueInteger: 40 }] },
          { linkId: 'birth-date', answer: [{ valueDate: '1985-03-01' }] },
          { linkId: 'sex', answer: [{ valueCoding: { system: CS, code: 'male', display: 'Male' } }] },
          { linkId: 'form-version', answer: [{ valueString: 'v1' }] },
        ],
      },
      {
        linkId: 'body',
        item: [
          { linkId: 'weight', answer: [{ valueDecimal: 82.5 }] },
          { linkId: 'height', answer: [{ valueDecimal: 1.8 }] },
        ],
      },
      {
        linkId: 'habits',
        item: [
          { linkId: 'smoker', answer: [{ valueBoolean: false }] },
          { linkId: 'ex-smoker', answer: [{ valueBoolean: true }] },
          { linkId: 'quit-date', answer: [{ valueDate: '2020-01-01' }] },
          { linkId: 'alcohol', answer: [{ valueCoding: { system: CS, code: 'weekly' } }] },
          { linkId: 'alcohol-units', answer: [{ valueInteger: 4 }] },
        ],
      },
      {
        linkId: 'medications',
        item: [
          { linkId: 'medication', answer: [{ valueCoding: { system: ATC, code: 'warfarin' } }] },
          { linkId: 'dose-mg', answer: [{ valueDecimal: 5 }] },
          { linkId: 'stoppable', answer: [{ valueBoolean: false }] },
        ],
      },
      {
        linkId: 'medications',
        item: [
          { linkId: 'medication', answer: [{ valueCoding: { system: ATC, code: 'sertraline' } }] },
          { linkId: 'stoppable', answer: [{ valueBoolean: true }] },
          { linkId: 'stop-reason', answer: [{ valueString: 'side effects' }] },
        ],
      },
    ],
  };
}

/** Membership in the external medications value set; other value sets are unknown. */
export const memberOf: ValueSetMembership = (valueSet, system, code) =>
  valueSet === MEDICATIONS_VS
    ? system === ATC && ['warfarin', 'clozapine', 'sertraline'].includes(code)
    : undefined;

/** The top-level items with a linkId (several for a repeating group), by linkId, never by position. */
export function top(qr: QuestionnaireResponse, linkId: string): QuestionnaireResponseItem[] {
  return (qr.item ?? []).filter((i) => i.linkId === linkId);
}

/** The first item with this linkId anywhere below `items`, through groups and answers. */
export function find(
  items: QuestionnaireResponseItem[] | undefined,
  linkId: string
): QuestionnaireResponseItem {
  const walk = (list: QuestionnaireResponseItem[] | undefined): QuestionnaireResponseItem | undefined => {
    for (const i of list ?? []) {
      if (i.linkId === linkId) {
        return i;
      }
      const hit = walk(i.item) ?? (i.answer ?? []).map((a) => walk(a.item)).find(Boolean);
      if (hit) {
        return hit;
      }
    }
    return undefined;
  };
  const found = walk(items);
  if (!found) {
    throw new Error(`test setup: no item '${linkId}'`);
  }
  return found;
}

/** A minimal Questionnaire around the given items. */
export function questionnaire(item: QuestionnaireItem[], extra: Partial<Questionnaire> = {}): Questionnaire {
  return {
    resourceType: 'Questionnaire',
    url: 'http://example.org/fhir/Questionnaire/q',
    status: 'active',
    item,
    ...extra,
  };
}

/** A completed response to {@link questionnaire}. */
export function response(item: QuestionnaireResponseItem[]): QuestionnaireResponse {
  return {
    resourceType: 'QuestionnaireResponse',
    id: 'r',
    status: 'completed',
    questionnaire: 'http://example.org/fhir/Questionnaire/q',
    subject: { reference: 'Patient/p' },
    item,
  };
}

/** A FHIRPath Expression extension. */
export function expressionExtension(
  kind: 'calculatedExpression' | 'enableWhenExpression',
  expression: string,
  language = 'text/fhirpath'
): Extension {
  return {
    url: `${SDC}${kind}`,
    valueExpression: { language: language as Expression['language'], expression },
  };
}

/** A `variable` extension. */
export function variable(name: string, expression: string): Extension {
  return {
    url: 'http://hl7.org/fhir/StructureDefinition/variable',
    valueExpression: { name, language: 'text/fhirpath', expression },
  };
}

/** Freezes a value and everything in it, to prove code under test never writes to it. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) {
      deepFreeze(v);
    }
    Object.freeze(value);
  }
  return value;
}
