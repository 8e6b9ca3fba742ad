/**
 * The library's `calculate`: the calculated response a third-party SDC extractor needs
 * (docs/authoring.md). Such an extractor gets the Conditions from it, and none from the raw response.
 */
import type { Bundle, Questionnaire, QuestionnaireResponse } from '@medplum/fhirtypes';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { calculate, createNodeEngine, evaluate } from '../src';
import { counterIds, fixedClock } from './helpers/ids';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const aehrc = require('@aehrc/sdc-template-extract') as {
  inAppExtract: (
    qr: QuestionnaireResponse,
    q: Questionnaire
  ) => Promise<{ extractResult: { extractedBundle?: Bundle } }>;
};

const read = <T>(path: string): T => JSON.parse(readFileSync(join(__dirname, '..', path), 'utf8')) as T;
const questionnaire = read<Questionnaire>('profiles/Questionnaire-re-evaluation.json');
const raw = read<QuestionnaireResponse>(
  'profiles/examples/QuestionnaireResponse-re-example-turp-tamsulosin.json'
);

const conditionsOf = async (response: QuestionnaireResponse): Promise<number> => {
  const result = await aehrc.inAppExtract(structuredClone(response), structuredClone(questionnaire));
  return (result.extractResult.extractedBundle?.entry ?? []).filter(
    (e) => e.resource?.resourceType === 'Condition'
  ).length;
};

describe('calculate', () => {
  test('returns the response evaluate works on', () => {
    const engine = (): ReturnType<typeof createNodeEngine> =>
      createNodeEngine({ clock: fixedClock(), newId: counterIds() });
    expect(calculate(raw, { engine: engine() })).toEqual(evaluate(raw, { engine: engine() }).response);
  }, 60_000);

  test('a third-party extractor gets the Conditions from the calculated response, none from the raw one', async () => {
    expect(await conditionsOf(raw)).toBe(0);
    expect(await conditionsOf(calculate(raw))).toBeGreaterThan(0);
  }, 60_000);
});
