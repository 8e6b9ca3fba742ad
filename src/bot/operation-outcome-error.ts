import { OperationOutcomeError } from '@medplum/core';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { keepCause } from '../core/outcomes';

/** Medplum's OperationOutcomeError with its cause, on Medplum 4.5 and 5.x alike. */
export function operationOutcomeError(result: OperationOutcome, cause?: unknown): OperationOutcomeError {
  const error = new OperationOutcomeError(result, cause);
  keepCause(error, cause);
  return error;
}
