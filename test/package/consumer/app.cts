// A CommonJS TypeScript consumer (require under node16 and nodenext).
import type { QuestionnaireResponse } from '@medplum/fhirtypes';
import { evaluate, isReFhirError } from 're-fhir';

export function run(response: QuestionnaireResponse): number {
  try {
    return evaluate(response).conditions.length;
  } catch (error) {
    return isReFhirError(error) ? -1 : -2;
  }
}
