import type { Resource, StructureDefinition } from '@medplum/fhirtypes';
import reCareplan from '../../../profiles/StructureDefinition-re-careplan.json';
import reCondition from '../../../profiles/StructureDefinition-re-condition.json';
import reEvidenceBasis from '../../../profiles/StructureDefinition-re-evidence-basis.json';
import reObservation from '../../../profiles/StructureDefinition-re-observation.json';
import reProvenance from '../../../profiles/StructureDefinition-re-provenance.json';
import reQuestionnaireresponse from '../../../profiles/StructureDefinition-re-questionnaireresponse.json';
import reRule from '../../../profiles/StructureDefinition-re-rule.json';

// Every shipped artefact in profiles/ and valuesets/, imported statically so that bundlers
// (the library build, the Medplum bot) inline them. test/core/conformance/content.test.ts fails
// when a file on disk is missing here. Keep the list sorted by path.

/** The shipped conformance resources (definitions and terminology; not the examples). */
export const CONTENT: readonly Resource[] = [
  reCareplan as StructureDefinition,
  reCondition as StructureDefinition,
  reEvidenceBasis as StructureDefinition,
  reObservation as StructureDefinition,
  reProvenance as StructureDefinition,
  reQuestionnaireresponse as StructureDefinition,
  reRule as StructureDefinition,
];
