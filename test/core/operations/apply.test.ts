import type { Bundle, PlanDefinition, QuestionnaireResponse } from '@medplum/fhirtypes';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyOperation } from '../../../src/core/operations/apply';
import { evaluateResponse } from '../../../src/core/operations/evaluate';
import { extractOperation } from '../../../src/core/operations/extract';
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

  describe('data with a QuestionnaireResponse as a form filler sends it (no calculated items)', () => {
    const PATHWAY = 'http://re-fhir.org/fhir/PlanDefinition/re-management-pathway';
    const raw = JSON.parse(
      readFileSync(
        join(__dirname, '../../../profiles/examples/QuestionnaireResponse-re-example-turp-tamsulosin.json'),
        'utf8'
      )
    ) as QuestionnaireResponse;
    const dataOf = (response: QuestionnaireResponse): Bundle => ({
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ fullUrl: 'urn:uuid:8e0c5c4e-2b1a-4c1e-9d7e-1f2a3b4c5d6e', resource: response }],
    });
    const titles = (carePlan: { contained?: unknown[] }): string[] =>
      JSON.stringify(carePlan.contained ?? []).match(/"title":"[^"]+"/g) ?? [];

    test('regression: it is calculated first, so the plan is the one of the calculated response, and the issues say so', () => {
      const deps = testEngine();
      const fromRaw = applyOperation(PATHWAY, { subject: raw.subject!.reference!, data: dataOf(raw) }, deps);
      const calculated = evaluateResponse(raw, testEngine()).response;
      const fromCalculated = applyOperation(
        PATHWAY,
        { subject: raw.subject!.reference!, data: dataOf(calculated) },
        testEngine()
      );
      expect(titles(fromRaw.carePlan).length).toBeGreaterThan(0);
      expect(titles(fromRaw.carePlan)).toEqual(titles(fromCalculated.carePlan));
      expect(fromRaw.issues.map((i) => i.details?.text)).toContainEqual(
        expect.stringContaining('was calculated (SDC calculatedExpression) before $apply')
      );
      expect(fromCalculated.issues.map((i) => i.details?.text)).not.toContainEqual(
        expect.stringContaining('was calculated (SDC calculatedExpression) before $apply')
      );
    });

    test('as in the README: the raw response plus the extracted resources give the plan of evaluate', () => {
      const extracted = extractOperation(raw, testEngine()).bundle.entry ?? [];
      const data: Bundle = {
        ...dataOf(raw),
        entry: [...dataOf(raw).entry!, ...extracted.map(({ fullUrl, resource }) => ({ fullUrl, resource }))],
      };
      const viaApply = applyOperation(PATHWAY, { subject: raw.subject!.reference!, data }, testEngine());
      const evaluated = evaluateResponse(raw, testEngine());
      const planOf = evaluated.bundle.entry?.find(
        (e) => e.resource?.resourceType === 'RequestGroup'
      )?.resource;
      expect(titles(viaApply.carePlan).length).toBeGreaterThan(3);
      expect(titles(viaApply.carePlan)).toEqual(titles({ contained: [planOf] }));
    });

    test('a response whose Questionnaire is unknown is used as given, with a warning', () => {
      const unknown = { ...raw, questionnaire: 'http://example.org/Questionnaire/other|1' };
      const result = applyOperation(PATHWAY, { subject: 'Patient/p1', data: dataOf(unknown) }, testEngine());
      expect(result.issues).toContainEqual(
        expect.objectContaining({ severity: 'warning', code: 'not-found' })
      );
    });
  });
});
