import type { Resource } from '@medplum/fhirtypes';
import questionnaireReEvaluation from '../../../profiles/Questionnaire-re-evaluation.json';
import codeSystemReItem from '../../../valuesets/CodeSystem-re-item.json';

// Every shipped artefact in profiles/ and valuesets/, imported statically so that bundlers
// (the library build, the Medplum bot) inline them. A conformance test fails when a file on disk
// is missing here. Keep the imports and the list sorted by path.

/** The shipped conformance resources (definitions and terminology; not the examples). */
export const CONTENT: readonly Resource[] = [
  questionnaireReEvaluation as Resource,
  codeSystemReItem as Resource,
];
