import { evaluate, extract, validateQuestionnaireResponse } from '../../../src/index';
import { ReFhirError } from '../../../src/core/outcomes';
import { badInputCases, libraryInput } from '../../helpers/bad-input';
import { testEngine } from '../../helpers/engine';

/** The corpus cases whose JSON reaches the engine (the rest are refused by the HTTP layer). */
const CASES = badInputCases().filter((c) => c.expect.library);

function failureOf(run: () => unknown): unknown {
  try {
    run();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('the bad-input corpus through the library', () => {
  test('covers the cases of every failure kind the engine has', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(60);
    expect(new Set(CASES.map((c) => c.expect.library!.kind))).toEqual(
      new Set(['structural', 'not-found', 'conformance'])
    );
  });

  test.each(CASES.map((c) => [c.name, c] as const))(
    '%s: evaluate throws the expected ReFhirError; validateQuestionnaireResponse reports it',
    (_name, c) => {
      const engine = testEngine();
      const { response, questionnaire } = libraryInput(c);
      const expected = { kind: c.expect.library!.kind, code: c.expect.library!.code };
      const summary = (err: unknown): unknown =>
        err instanceof ReFhirError
          ? { kind: err.kind, code: err.outcome.issue.find((i) => i.severity === 'error')?.code }
          : err;

      expect(summary(failureOf(() => evaluate(response, { engine, questionnaire })))).toEqual(expected);
      // The input checks only: an output that breaks its profile is found by the evaluation alone.
      if (expected.code !== 'processing') {
        const validated = validateQuestionnaireResponse(response, { engine, questionnaire });
        expect(validated.issue.find((i) => i.severity === 'error')?.code).toBe(expected.code);
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    }
  );

  test('extract fails as evaluate does on input it refuses, and returns what invalid templates produce', () => {
    const engine = testEngine();
    const refused = libraryInput(CASES.find((c) => c.name === 'parameters-questionnaire-not-fhir')!);
    expect((failureOf(() => extract(refused.response, { engine, ...refused })) as ReFhirError).kind).toBe(
      'structural'
    );
    // SDC $extract returns the templates' output as it is; only the evaluation validates its output.
    const template = libraryInput(
      CASES.find((c) => c.name === 'parameters-questionnaire-with-invalid-template')!
    );
    expect(extract(template.response, { engine, ...template }).resourceType).toBe('Parameters');
  });
});
