import type { Bundle, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { extractResources } from '../extract/extract';
import { hasErrors, ReFhirError } from '../outcomes';
import type { EngineDeps } from './engine';
import { blameFor } from './engine';
import type { CheckedResponse, ResponseInput } from './response-input';
import { checkResponse } from './response-input';

/** The result of SDC `$extract`: the transaction Bundle and the hints and warnings. */
export interface ExtractOutput {
  /** Entries exactly as the templates declare them (conditional creates); nothing is persisted. */
  readonly bundle: Bundle;
  readonly issues: OperationOutcomeIssue[];
  readonly checked: CheckedResponse;
}

/**
 * `QuestionnaireResponse/$extract` (SDC STU4, template-based): checks and completes the response,
 * then instantiates the Questionnaire's templates. An error during extraction (a template expression
 * that fails) makes the operation fail, as SDC requires; it is our fault for the shipped Questionnaire.
 * See: https://hl7.org/fhir/uv/sdc/STU4/OperationDefinition-QuestionnaireResponse-extract.html
 */
export function extractOperation(
  input: unknown,
  deps: EngineDeps,
  options: ResponseInput = {}
): ExtractOutput {
  const checked = checkResponse(input, deps, options);
  const { bundle, issues } = extractResources(checked.questionnaire, checked.completed, {
    newId: deps.newId,
  });
  if (hasErrors(issues)) {
    throw new ReFhirError(blameFor(checked.questionnaire, deps), issues);
  }
  return { bundle, issues: [...checked.issues, ...issues], checked };
}
