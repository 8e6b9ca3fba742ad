import type { Questionnaire } from '@medplum/fhirtypes';
import { evaluateResponse } from '../../../src/core/operations/evaluate';
import { questionnaireCompilations } from '../../../src/core/response/questionnaire-model';
import { testEngine } from '../../helpers/engine';
import { scenarios } from '../../helpers/scenarios';

/**
 * The Questionnaire model (item tree, answer constraints, analysed expressions) depends on the
 * Questionnaire only: a full evaluation compiles it on first use and never again, whether the
 * Questionnaire is the registry's or given with each request as a fresh parse of the same content.
 */
describe('the Questionnaire is compiled once, not per evaluation', () => {
  const deps = testEngine();
  const all = scenarios();

  test('by canonical: a second round of evaluations compiles nothing', () => {
    for (const s of all) {
      evaluateResponse(s.response, deps);
    }
    const before = questionnaireCompilations();
    for (const s of all) {
      evaluateResponse(s.response, deps);
    }
    expect(all.length).toBeGreaterThan(1);
    expect(questionnaireCompilations()).toBe(before);
  });

  test('given with each request (a new object of the same content): only the first compiles', () => {
    const shipped = deps.registry.resolve<Questionnaire>(
      'http://re-fhir.org/fhir/Questionnaire/re-evaluation',
      'Questionnaire'
    )!;
    const text = JSON.stringify(shipped);
    const start = questionnaireCompilations();
    evaluateResponse(all[0]!.response, deps, { questionnaire: JSON.parse(text) as Questionnaire });
    // The shipped object was compiled by the first test or is compiled now; at most one compile.
    const afterFirst = questionnaireCompilations();
    expect(afterFirst - start).toBeLessThanOrEqual(1);
    for (const s of all) {
      evaluateResponse(s.response, deps, { questionnaire: JSON.parse(text) as Questionnaire });
    }
    expect(questionnaireCompilations()).toBe(afterFirst);

    // Other content is a new model (the count moves: the counter sees real compiles).
    const changed = JSON.parse(text) as Questionnaire;
    changed.title = `${changed.title ?? ''} (changed)`;
    evaluateResponse(all[0]!.response, deps, { questionnaire: changed });
    expect(questionnaireCompilations()).toBe(afterFirst + 1);
  });
});
