import type { Bundle, QuestionnaireResponse } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { evaluateResponse } from '../../../src/core/operations/evaluate';
import { heldAfter, staleActive } from '../../helpers/amendments';
import { testEngine } from '../../helpers/engine';
import { validReResponse } from '../../helpers/re-response-arbitrary';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 12);

/** Versions of one response: the same id and subject, completed first, then amended, a day apart. */
const versions = fc.array(validReResponse(), { minLength: 2, maxLength: 4 }).map((drafts) =>
  drafts.map((draft, i): QuestionnaireResponse => ({
    ...draft,
    id: 'amended-sequence',
    status: i === 0 ? 'completed' : 'amended',
    authored: new Date(Date.parse('2026-11-20T10:00:00Z') + i * 86_400_000).toISOString(),
  }))
);

describe('amendment properties over sequences of responses valid against the Questionnaire', () => {
  const deps = testEngine();

  test('after any sequence of amendments, every active resource tied to the response is supported by the latest evaluation', () => {
    fc.assert(
      fc.property(versions, (sequence) => {
        const bundles: Bundle[] = [];
        for (const response of sequence) {
          bundles.push(evaluateResponse(response, deps, { previous: heldAfter(bundles) }).bundle);
        }
        const latest = evaluateResponse(sequence.at(-1)!, deps).bundle;
        expect(staleActive(heldAfter(bundles), latest)).toEqual([]);
        // The closing writes come beside the evaluation's own, once each, before the Provenance.
        const urls = (bundles.at(-1)!.entry ?? []).map((e) => e.request?.url);
        expect(new Set(urls).size).toBe(urls.length);
        expect(urls).toEqual(expect.arrayContaining((latest.entry ?? []).map((e) => e.request?.url)));
        if (urls.length > 0) {
          expect(urls.at(-1)).toMatch(/^Provenance\?/);
        }
      }),
      { numRuns: RUNS }
    );
  }, 300_000);
});
