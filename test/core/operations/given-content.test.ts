import type { Questionnaire } from '@medplum/fhirtypes';
import { evaluateResponse } from '../../../src/core/operations/evaluate';
import { internGiven } from '../../../src/core/operations/given-content';
import { compileQuestionnaire } from '../../../src/core/response/questionnaire-model';
import { testEngine } from '../../helpers/engine';
import { scenarios } from '../../helpers/scenarios';

describe('definitions given with a request, interned by content', () => {
  const deps = testEngine();
  const shipped = deps.registry.resolve<Questionnaire>(
    'http://re-fhir.org/fhir/Questionnaire/re-evaluation',
    'Questionnaire'
  )!;

  test('each golden scenario with a fresh copy of the Questionnaire per request gives the Bundle of the shipped one', () => {
    for (const scenario of scenarios()) {
      for (let i = 0; i < 2; i++) {
        // The same validator (so the interned content is shared), ids counted afresh.
        const run = { ...deps, newId: testEngine().newId };
        const bundle = evaluateResponse(scenario.response, run, {
          questionnaire: structuredClone(shipped),
        }).bundle;
        expect(bundle).toEqual(evaluateResponse(scenario.response, testEngine()).bundle);
      }
    }
  });

  test('equal content is validated and compiled once; other content is not confused with it', () => {
    const deps = testEngine();
    const validate = jest.spyOn(deps.validator, 'validate');
    try {
      const first = internGiven(structuredClone(shipped), deps);
      const before = validate.mock.calls.length;
      const second = internGiven(structuredClone(shipped), deps);
      expect(validate.mock.calls.length).toBe(before);
      expect(second.value).toBe(first.value);
      expect(compileQuestionnaire(second.value)).toBe(compileQuestionnaire(first.value));

      const changed = structuredClone(shipped);
      changed.title = `${changed.title ?? ''} (changed)`;
      const third = internGiven(changed, deps);
      expect(validate.mock.calls.length).toBe(before + 1);
      expect(third.value).toBe(changed);
      expect(third.value).not.toBe(first.value);
    } finally {
      validate.mockRestore();
    }
  });

  test('memory stays bounded: only the last few contents are kept', () => {
    const seen: Questionnaire[] = [];
    for (let i = 0; i < 20; i++) {
      const q = structuredClone(shipped);
      q.title = `variant ${i}`;
      seen.push(internGiven(q, deps).value);
    }
    // The first variant was forgotten: sent again, it is a new entry, not the first object.
    const again = structuredClone(shipped);
    again.title = 'variant 0';
    expect(internGiven(again, deps).value).not.toBe(seen[0]);
    // The last one is still known.
    const last = structuredClone(shipped);
    last.title = 'variant 19';
    expect(internGiven(last, deps).value).toBe(seen[19]);
  });
});
