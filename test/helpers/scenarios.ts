import type { Bundle, QuestionnaireResponse } from '@medplum/fhirtypes';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SCENARIO_DIR = join(__dirname, '../fixtures/scenarios');

export interface Scenario {
  readonly name: string;
  readonly response: QuestionnaireResponse;
  readonly expectedFile: string;
}

/** Every golden scenario: `test/fixtures/scenarios/<name>/{questionnaire-response,expected-bundle}.json`. */
export function scenarios(): Scenario[] {
  return readdirSync(SCENARIO_DIR)
    .sort()
    .map((name) => ({
      name,
      response: JSON.parse(readFileSync(join(SCENARIO_DIR, name, 'questionnaire-response.json'), 'utf8')),
      expectedFile: join(SCENARIO_DIR, name, 'expected-bundle.json'),
    }));
}

/**
 * The expected Bundle. With UPDATE_GOLDEN=1 the actual one is written first: do that only on
 * purpose, and review the diff like code.
 */
export function golden(scenario: Scenario, actual: Bundle): Bundle | undefined {
  if (process.env.UPDATE_GOLDEN === '1') {
    writeFileSync(scenario.expectedFile, JSON.stringify(actual, null, 2) + '\n');
  }
  return existsSync(scenario.expectedFile)
    ? JSON.parse(readFileSync(scenario.expectedFile, 'utf8'))
    : undefined;
}
