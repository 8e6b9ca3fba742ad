import type { Bundle, QuestionnaireResponse } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EvaluateOptions } from '../../../src/core/operations/evaluate';
import { evaluateResponse } from '../../../src/core/operations/evaluate';
import { amendmentSequences, heldAfter } from '../../helpers/amendments';
import { testEngine } from '../../helpers/engine';
import { validReResponse } from '../../helpers/re-response-arbitrary';
import { scenarios } from '../../helpers/scenarios';
import { evaluateResponse as oracleEvaluate } from './oracle/evaluate';

/**
 * The evaluation against its frozen oracle (./oracle: the orchestration, Bundle assembly, narratives,
 * Provenance, name UUIDs and copies before issue 13's fourth round): the same Evaluation as JSON text,
 * byte for byte (Bundle, completed response, Conditions, CarePlan, issues), or the same error.
 */

const RUNS = Number(process.env.PROPERTY_RUNS ?? 20);
const EXAMPLES = join(__dirname, '../../../profiles/examples');

type Outcome = { ok: string } | { error: string };

/** The evaluation as JSON text, or its error (class, message and OperationOutcome) as text. */
function run(evaluate: typeof evaluateResponse, input: unknown, options?: EvaluateOptions): Outcome {
  try {
    return { ok: JSON.stringify(evaluate(structuredClone(input), testEngine(), options)) };
  } catch (e) {
    const err = e as Error & { outcome?: unknown; kind?: string };
    return { error: JSON.stringify([err.constructor.name, err.message, err.kind, err.outcome]) };
  }
}

function expectSame(input: unknown, options?: EvaluateOptions): Outcome {
  const expected = run(oracleEvaluate, input, options);
  expect(run(evaluateResponse, input, options)).toEqual(expected);
  return expected;
}

const examples = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(join(EXAMPLES, f), 'utf8')) as QuestionnaireResponse);

describe('evaluation equals its frozen oracle', () => {
  test.each(examples.map((e) => [e.id!, e]))('shipped example %s', (_id, example) => {
    expect(expectSame(example)).toHaveProperty('ok');
  });

  test.each(scenarios().map((s) => [s.name, s]))('golden scenario %s', (_name, scenario) => {
    expect(expectSame(scenario.response)).toHaveProperty('ok');
  });

  test('amendment sequences, each version with what the earlier ones wrote', () => {
    for (const sequence of amendmentSequences()) {
      const bundles: Bundle[] = [];
      for (const response of sequence.steps) {
        const outcome = expectSame(response, { previous: heldAfter(bundles) });
        bundles.push((JSON.parse((outcome as { ok: string }).ok) as { bundle: Bundle }).bundle);
      }
    }
  });

  test('generated valid responses, and the same responses with the engine options varied', () => {
    fc.assert(
      fc.property(
        validReResponse(),
        fc.record(
          {
            encounter: fc.constant('Encounter/e1'),
            practitioner: fc.constant('Practitioner/dr'),
            organization: fc.constant('Organization/o'),
            keySystem: fc.constant('urn:example:keys'),
          },
          { requiredKeys: [] }
        ),
        (response, options) => {
          expectSame(response);
          expectSame(response, options);
        }
      ),
      { numRuns: RUNS }
    );
  });

  test('generated responses with their subject, author, id or authored time changed or removed', () => {
    const edit = fc.record(
      {
        subject: fc.option(fc.constantFrom('Patient/a', 'Patient/ü & <b>', 'Group/g'), { nil: undefined }),
        author: fc.option(
          fc.oneof(
            fc.constant({ reference: 'Practitioner/x', display: 'Dr <X> & "Y"' }),
            fc.constant({ display: "O'Brien" }),
            fc.constant({ extension: [{ url: 'urn:x', valueString: 'y' }] })
          ),
          { nil: undefined }
        ),
        id: fc.option(fc.stringMatching(/^[A-Za-z0-9\-.]{1,64}$/), { nil: undefined }),
        authored: fc.option(fc.constantFrom('2026-01-02', '2026-01-02T03:04:05+01:00'), { nil: undefined }),
      },
      { requiredKeys: [] }
    );
    fc.assert(
      fc.property(validReResponse(), edit, (response, changes) => {
        const changed = Object.fromEntries(
          Object.entries({ ...response, ...changes })
            .filter(([, value]) => value !== undefined)
            .map(([key, value]) => [
              key,
              key === 'subject' && key in changes ? { reference: value as string } : value,
            ])
        );
        expectSame(changed);
      }),
      { numRuns: RUNS }
    );
  });
});
