// An ESM TypeScript consumer, type-checked with --strict and without skipLibCheck under node16,
// nodenext and bundler resolution.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Bundle, Condition, OperationOutcome, QuestionnaireResponse } from '@medplum/fhirtypes';
import type { EngineDeps, Evaluation, FailureKind } from 're-fhir';
import {
  ReFhirError,
  apply,
  createNodeEngine,
  evaluate,
  isReFhirError,
  validateQuestionnaireResponse,
} from 're-fhir';

const require = createRequire(import.meta.url);
const path =
  require.resolve('re-fhir/profiles/examples/QuestionnaireResponse-re-example-diabetic-confirmed.json');
const response = JSON.parse(readFileSync(path, 'utf8')) as QuestionnaireResponse;

const engine: EngineDeps = createNodeEngine({ clock: () => new Date('2026-01-01T00:00:00Z') });
const result: Evaluation = evaluate(response, { engine });
const bundle: Bundle = result.bundle;
const conditions: readonly Condition[] = result.conditions;
const issues: OperationOutcome = validateQuestionnaireResponse(response);
const carePlan = apply('http://re-fhir.org/fhir/PlanDefinition/re-management-pathway|0.1.0', {
  subject: 'Patient/example',
});

export function kindOf(error: unknown): FailureKind | undefined {
  if (isReFhirError(error)) {
    const outcome: OperationOutcome = error.outcome;
    return outcome.issue.length > 0 ? error.kind : undefined;
  }
  return error instanceof ReFhirError ? error.kind : undefined;
}

export const summary = [bundle.entry?.length, conditions.length, issues.issue.length, carePlan.status];
