import type { Parameters } from '@medplum/fhirtypes';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { populate, populateParameters } from '../../../src/index';
import { testEngine } from '../../helpers/engine';
import { populateScenarios, writeExpected } from '../../helpers/populate';

/**
 * Golden scenarios: each patient record (test/fixtures/populate/<name>/record.json) populates the shipped
 * Questionnaire into exactly the expected SDC output (expected.json), compared as whole resources:
 * the response with its marks, and the issues. The engine's clock is 2026-11-27T09:00:00Z.
 */
const scenarios = populateScenarios();

test('there are five scenarios', () => {
  expect(scenarios.map((s) => s.name)).toEqual([
    'diabetic-neuropathy',
    'ms-sci',
    'nothing-relevant',
    'post-turp',
    'tamsulosin-sertraline',
  ]);
});

describe.each(scenarios)('$name', (scenario) => {
  test('pre-fills exactly the expected response and issues', async () => {
    const output: Parameters = populateParameters(
      await populate(scenario.patient, scenario.record, { engine: testEngine() })
    );
    if (process.env.UPDATE_GOLDEN === '1') {
      writeExpected(scenario, output);
    }
    expect(output).toEqual(scenario.expected);
  });
});

test("the request the docs' curl posts carries the diabetic-neuropathy record as it is", () => {
  const s = scenarios.find((x) => x.name === 'diabetic-neuropathy')!;
  const request = JSON.parse(readFileSync(join(s.dir, 'request.json'), 'utf8')) as Parameters;
  expect(request.parameter!.find((p) => p.name === 'record')!.resource).toEqual(s.record);
});
