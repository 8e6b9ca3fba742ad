import type { QuestionnaireResponse, QuestionnaireResponseItem } from '@medplum/fhirtypes';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluate, populate, validateQuestionnaireResponse } from '../../../src/index';
import { testEngine } from '../../helpers/engine';
import { populateScenarios } from '../../helpers/populate';

/**
 * A pre-filled answer keeps its marks when the clinician completes the response: the marks must not
 * make the completed response invalid, nor change what its evaluation writes.
 */
const example = JSON.parse(
  readFileSync(
    join(__dirname, '../../../profiles/examples/QuestionnaireResponse-re-example-turp-tamsulosin.json'),
    'utf8'
  )
) as QuestionnaireResponse;

function walk(
  items: QuestionnaireResponseItem[] | undefined,
  f: (item: QuestionnaireResponseItem) => void
): void {
  for (const item of items ?? []) {
    f(item);
    walk(item.item, f);
  }
}

test('the post-TURP marks on a completed response: valid, and the same evaluation', async () => {
  const s = populateScenarios().find((x) => x.name === 'post-turp')!;
  const { response } = await populate(s.patient, s.record, { engine: testEngine() });
  const marks = new Map<string, QuestionnaireResponseItem['extension']>();
  walk(response.item, (i) => {
    if (i.answer) {
      marks.set(i.linkId, i.extension);
    }
  });
  // The clinician's completed response (the shipped example), with the marks of what was pre-filled.
  const completed = structuredClone(example);
  let marked = 0;
  walk(completed.item, (i) => {
    if (marks.has(i.linkId)) {
      i.extension = marks.get(i.linkId);
      marked++;
    }
  });
  expect(marked).toBeGreaterThan(0);
  expect(validateQuestionnaireResponse(completed, { engine: testEngine() }).issue).toEqual([
    expect.objectContaining({ severity: 'information', details: { text: 'All OK' } }),
  ]);
  expect(evaluate(completed, { engine: testEngine() }).bundle).toEqual(
    evaluate(example, { engine: testEngine() }).bundle
  );
});
