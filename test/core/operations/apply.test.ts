import type { PlanDefinition } from '@medplum/fhirtypes';
import { applyOperation } from '../../../src/core/operations/apply';
import type { ReFhirError } from '../../../src/core/outcomes';
import { testEngine } from '../../helpers/engine';

/** A valid PlanDefinition whose one action sets its description to an empty string (invalid markdown). */
const EMPTY_DESCRIPTION: PlanDefinition = {
  resourceType: 'PlanDefinition',
  status: 'active',
  title: 'Caller plan',
  action: [
    {
      title: 'Counsel',
      dynamicValue: [{ path: 'description', expression: { language: 'text/fhirpath', expression: "''" } }],
    },
  ],
};

function kindOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (err) {
    return (err as ReFhirError).kind;
  }
  return undefined;
}

describe('applyOperation', () => {
  test('regression: a caller’s PlanDefinition that yields an invalid CarePlan is conformance (422), not internal', () => {
    let thrown: ReFhirError | undefined;
    try {
      applyOperation(EMPTY_DESCRIPTION, { subject: 'Patient/p1' }, testEngine());
    } catch (err) {
      thrown = err as ReFhirError;
    }
    expect({ kind: thrown?.kind, issue: thrown?.outcome.issue[0] }).toMatchObject({
      kind: 'conformance',
      issue: { code: 'processing', expression: ['CarePlan.contained[0].action[0].description'] },
    });
  });

  test('the shipped pathway applied by canonical still succeeds', () => {
    expect(
      kindOf(() =>
        applyOperation(
          'http://re-fhir.org/fhir/PlanDefinition/re-management-pathway',
          { subject: 'Patient/p1' },
          testEngine()
        )
      )
    ).toBeUndefined();
  });

  test('a caller’s PlanDefinition that is not valid R4 is refused as structural before it runs', () => {
    const invalid = { ...EMPTY_DESCRIPTION, status: 'published' } as unknown as PlanDefinition;
    let thrown: ReFhirError | undefined;
    try {
      applyOperation(invalid, { subject: 'Patient/p1' }, testEngine());
    } catch (err) {
      thrown = err as ReFhirError;
    }
    expect({ kind: thrown?.kind, expression: thrown?.outcome.issue[0]?.expression }).toEqual({
      kind: 'structural',
      expression: ['PlanDefinition.status'],
    });
  });

  test('the registry’s own copy, given as a resource, is applied like its canonical: its faults would be ours', () => {
    const engine = testEngine();
    const shipped = engine.registry.resolve<PlanDefinition>(
      'http://re-fhir.org/fhir/PlanDefinition/re-management-pathway',
      'PlanDefinition'
    )!;
    const byResource = applyOperation(shipped, { subject: 'Patient/p1' }, engine);
    const byCanonical = applyOperation(shipped.url!, { subject: 'Patient/p1' }, testEngine());
    expect(byResource.carePlan.contained?.length).toBe(byCanonical.carePlan.contained?.length);
    expect(byResource.issues).toEqual(byCanonical.issues);
  });
});
