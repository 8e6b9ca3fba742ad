import type { Bundle, Resource } from '@medplum/fhirtypes';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluateResponse } from '../../../src/core/operations/evaluate';
import { testEngine } from '../../helpers/engine';
import { golden, scenarios } from '../../helpers/scenarios';

const EXAMPLES = join(__dirname, '../../../profiles/examples');

describe('golden clinical scenarios', () => {
  const all = scenarios();

  test('there are at least twelve, including the four shipped examples unchanged', () => {
    expect(all.length).toBeGreaterThanOrEqual(12);
    for (const name of ['turp-tamsulosin', 'diabetic-confirmed', 'anejaculation', 'distress-pe']) {
      const scenario = all.find((s) => s.name === `example-${name}`);
      const shipped = JSON.parse(
        readFileSync(join(EXAMPLES, `QuestionnaireResponse-re-example-${name}.json`), 'utf8')
      );
      expect(scenario?.response).toEqual(shipped);
    }
  });

  test.each(all.map((s) => [s.name, s]))(
    '%s gives exactly the expected transaction Bundle',
    (_name, scenario) => {
      const deps = testEngine();
      const { bundle } = evaluateResponse(scenario.response, deps);
      expect(bundle).toEqual(golden(scenario, bundle));
    }
  );

  test.each(all.map((s) => [s.name, s]))(
    '%s: every generated resource validates in every tier',
    (_name, scenario) => {
      const deps = testEngine();
      const { bundle } = evaluateResponse(scenario.response, deps);
      for (const entry of bundle.entry ?? []) {
        const resource = entry.resource as Resource;
        const profiles = resource.meta?.profile ?? [];
        for (const profile of profiles.length > 0 ? profiles : [undefined]) {
          const result = deps.validator.validate(resource, profile ? { profile } : {});
          expect({
            fullUrl: entry.fullUrl,
            errors: result.issues.filter((i) => i.severity === 'error'),
          }).toEqual({
            fullUrl: entry.fullUrl,
            errors: [],
          });
        }
      }
    }
  );

  test('the same response evaluated twice gives the same Bundle (deterministic)', () => {
    const [first] = all;
    const a: Bundle = evaluateResponse(first!.response, testEngine()).bundle;
    const b: Bundle = evaluateResponse(first!.response, testEngine()).bundle;
    expect(a).toEqual(b);
  });
});
