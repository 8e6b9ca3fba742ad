/**
 * Canonical URLs and code-system URIs shared by the engine and the content.
 * Clinical codes never live here: they live in profiles/ and valuesets/.
 */

/** Canonical base of every artefact this project publishes. */
export const CANONICAL_BASE = 'http://re-fhir.org/fhir';

/** Version carried by every shipped artefact (`url|version`). */
export const CONTENT_VERSION = '0.1.0';

/** FHIR package id of the conformance content (distinct from the npm name). */
export const FHIR_PACKAGE_ID = 'org.refhir.re';

export const SYSTEM = {
  icd10cm: 'http://hl7.org/fhir/sid/icd-10-cm',
  icd11: 'http://id.who.int/icd/release/11/mms',
  snomed: 'http://snomed.info/sct',
  loinc: 'http://loinc.org',
  ucum: 'http://unitsofmeasure.org',
  atc: 'http://www.whocc.no/atc',
  rxnorm: 'http://www.nlm.nih.gov/research/umls/rxnorm',
  conditionClinical: 'http://terminology.hl7.org/CodeSystem/condition-clinical',
  conditionVerStatus: 'http://terminology.hl7.org/CodeSystem/condition-ver-status',
  conditionCategory: 'http://terminology.hl7.org/CodeSystem/condition-category',
} as const;

export const SDC_EXTENSION = {
  templateExtract: 'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-templateExtract',
  templateExtractBundle:
    'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-templateExtractBundle',
  templateExtractContext:
    'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-templateExtractContext',
  templateExtractValue:
    'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-templateExtractValue',
  extractAllocateId: 'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-extractAllocateId',
  calculatedExpression:
    'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-calculatedExpression',
  enableWhenExpression:
    'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression',
  variable: 'http://hl7.org/fhir/StructureDefinition/variable',
  hidden: 'http://hl7.org/fhir/StructureDefinition/questionnaire-hidden',
  unit: 'http://hl7.org/fhir/StructureDefinition/questionnaire-unit',
  responseAuthor: 'http://hl7.org/fhir/StructureDefinition/questionnaireresponse-author',
} as const;

/** Identifier system of everything the engine writes: the conditional key of each resource. */
export const KEY_SYSTEM = `${CANONICAL_BASE}/sid/extraction`;

/** Extension naming the decision rule (R1–R12) behind a generated resource or action. */
export const RULE_EXTENSION = `${CANONICAL_BASE}/StructureDefinition/re-rule`;

/** The PlanDefinition applied after extraction. */
export const MANAGEMENT_PATHWAY = `${CANONICAL_BASE}/PlanDefinition/re-management-pathway|${CONTENT_VERSION}`;

export const PROFILE = {
  questionnaireResponse: `${CANONICAL_BASE}/StructureDefinition/re-questionnaireresponse`,
  carePlan: `${CANONICAL_BASE}/StructureDefinition/re-careplan`,
} as const;

/** The shipped RE evaluation Questionnaire (what `$populate` pre-fills by default). */
export const QUESTIONNAIRE_CANONICAL = `${CANONICAL_BASE}/Questionnaire/re-evaluation|${CONTENT_VERSION}`;
