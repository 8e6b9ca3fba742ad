import { CANONICAL_BASE } from '../constants';

/** The SDC population extensions this module reads. See: https://hl7.org/fhir/uv/sdc/STU4/populate.html */
export const POPULATE_EXTENSION = {
  launchContext: 'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-launchContext',
  variable: 'http://hl7.org/fhir/StructureDefinition/variable',
  initialExpression: 'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-initialExpression',
  itemPopulationContext:
    'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-itemPopulationContext',
  observationLinkPeriod:
    'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-observationLinkPeriod',
  unit: 'http://hl7.org/fhir/StructureDefinition/questionnaire-unit',
} as const;

/** Expression languages. */
export const LANGUAGE = {
  fhirpath: 'text/fhirpath',
  fhirQuery: 'application/x-fhir-query',
} as const;

/**
 * The marks on a pre-filled item. `questionnaireresponse-author` (FHIR core) says who provided the
 * answer: the population service, not the clinician. `re-populated-from` lists the records the answer
 * was read from (R4 has no item-level source extension; SDC suggests Provenance, which cannot point
 * at one item of a response).
 */
export const MARK = {
  author: 'http://hl7.org/fhir/StructureDefinition/questionnaireresponse-author',
  populatedFrom: `${CANONICAL_BASE}/StructureDefinition/re-populated-from`,
} as const;

/** The display of the author of every pre-filled answer. */
export const POPULATE_AUTHOR_DISPLAY =
  're-fhir $populate: read from the patient record, to be confirmed by the clinician';
