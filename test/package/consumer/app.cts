// A CommonJS TypeScript consumer (require under node16 and nodenext). @medplum/fhirtypes 5 is an ES
// module, so a CommonJS file imports its types with resolution-mode import.
import type { QuestionnaireResponse } from '@medplum/fhirtypes' with { 'resolution-mode': 'import' };
import { evaluate, isReFhirError } from 're-fhir';

export function run(response: QuestionnaireResponse): number {
  try {
    return evaluate(response).conditions.length;
  } catch (error) {
    return isReFhirError(error) ? -1 : -2;
  }
}
