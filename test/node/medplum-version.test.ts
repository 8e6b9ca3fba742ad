import { MEDPLUM_VERSION } from '@medplum/core';
import { getStatus } from '@medplum/core';
import { operationOutcomeError } from '../../src/bot/operation-outcome-error';
import { ReFhirError } from '../../src/core/outcomes';

// CI runs the engine and bot tests on Medplum 5 (.ci/jest.medplum5.config.cjs) and names the major
// version it expects, so that a mapping that silently fell back to the devDependency fails here.
describe('the Medplum these tests run on', () => {
  test('is the expected major version when EXPECT_MEDPLUM_MAJOR is set', () => {
    const expected = process.env.EXPECT_MEDPLUM_MAJOR;
    const major = MEDPLUM_VERSION.split('.')[0];
    expect(major).toMatch(/^\d+$/);
    if (expected) {
      expect(major).toBe(expected);
    }
  });

  test('its OperationOutcomeError keeps the cause, as a ReFhirError does', () => {
    const cause = new TypeError('underlying');
    const issues = [{ severity: 'error' as const, code: 'invalid' as const, details: { text: 'x' } }];
    expect(operationOutcomeError({ resourceType: 'OperationOutcome', issue: issues }, cause).cause).toBe(
      cause
    );
    const error = new ReFhirError('structural', issues, cause);
    expect(error.cause).toBe(cause);
    expect(getStatus(error.outcome)).toBe(400);
  });
});
