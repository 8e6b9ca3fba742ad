import type { Questionnaire, QuestionnaireItem, QuestionnaireResponse } from '@medplum/fhirtypes';
import { isQuestionEnabled } from '@medplum/react-hooks';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  HIDDEN_URL,
  ITEM_CONTROL_URL,
  NO,
  toRenderQuestionnaire,
  toRenderResponse,
  YES,
  YES_NO_SYSTEM,
} from '../../src/web/render-questionnaire';

const source: Questionnaire = JSON.parse(
  readFileSync(join(__dirname, '../../profiles/Questionnaire-re-evaluation.json'), 'utf8')
);

function flatten(items: readonly QuestionnaireItem[] | undefined): QuestionnaireItem[] {
  return (items ?? []).flatMap((i) => [i, ...flatten(i.item)]);
}

function find(q: Questionnaire, linkId: string): QuestionnaireItem {
  const item = flatten(q.item).find((i) => i.linkId === linkId);
  if (!item) {
    throw new Error(`no item ${linkId}`);
  }
  return item;
}

describe('toRenderQuestionnaire', () => {
  const rendered = toRenderQuestionnaire(source);

  test('leaves out every hidden item, so the calculated case features are neither shown nor calculated', () => {
    const hiddenInSource = flatten(source.item).filter((i) =>
      (i.extension ?? []).some((e) => e.url === HIDDEN_URL && e.valueBoolean)
    );
    expect(hiddenInSource.map((i) => i.linkId)).toContain('case-features');
    const renderedIds = new Set(flatten(rendered.item).map((i) => i.linkId));
    for (const item of flatten(hiddenInSource)) {
      expect(renderedIds.has(item.linkId)).toBe(false);
    }
    expect(JSON.stringify(rendered.item)).not.toContain('calculatedExpression');
  });

  test('keeps every other item, in order', () => {
    const hiddenRoots = flatten(source.item).filter((i) => i.extension?.some((e) => e.url === HIDDEN_URL));
    const hidden = new Set(flatten(hiddenRoots).map((i) => i.linkId));
    const expected = flatten(source.item)
      .map((i) => i.linkId)
      .filter((id) => !hidden.has(id));
    expect(flatten(rendered.item).map((i) => i.linkId)).toEqual(expected);
  });

  test('renders every boolean as a Yes/No radio question and keeps whether it is required', () => {
    const booleans = flatten(source.item).filter((i) => i.type === 'boolean' && !i.readOnly);
    expect(booleans.length).toBeGreaterThan(10);
    for (const original of booleans.filter((b) =>
      flatten(rendered.item).some((r) => r.linkId === b.linkId)
    )) {
      const item = find(rendered, original.linkId);
      expect(item.type).toBe('choice');
      expect(item.answerOption).toEqual([{ valueCoding: YES }, { valueCoding: NO }]);
      const control = item.extension?.find((e) => e.url === ITEM_CONTROL_URL);
      expect(control?.valueCodeableConcept?.coding?.[0]?.code).toBe('radio-button');
      if (original.linkId !== 'medication-stoppable') {
        expect(item.required).toBe(original.required);
      }
    }
    expect(find(rendered, 'dry-orgasm').required).toBe(true);
  });

  test('rewrites enableWhen on a boolean to the Yes/No coding, and leaves other enableWhen alone', () => {
    expect(find(rendered, 'months-trying').enableWhen).toEqual([
      { question: 'fertility-wish', operator: '=', answerCoding: YES },
    ]);
    expect(find(rendered, 'ed-aetiology').enableWhen).toEqual(find(source, 'ed-aetiology').enableWhen);
    expect(find(rendered, 'sperm-concentration').enableWhen).toEqual(
      find(source, 'sperm-concentration').enableWhen
    );
    const falseCondition = toRenderQuestionnaire({
      resourceType: 'Questionnaire',
      status: 'active',
      item: [
        { linkId: 'a', type: 'boolean' },
        {
          linkId: 'b',
          type: 'string',
          enableWhen: [{ question: 'a', operator: '!=', answerBoolean: false }],
        },
      ],
    });
    expect(falseCondition.item?.[1]?.enableWhen).toEqual([
      { question: 'a', operator: '!=', answerCoding: NO },
    ]);
  });

  test("the renderer's own enableWhen test shows a dependent question exactly when its Yes/No answer matches", () => {
    const item = find(rendered, 'months-trying');
    const answer = (code: string | undefined): QuestionnaireResponse => ({
      resourceType: 'QuestionnaireResponse',
      status: 'in-progress',
      item: [
        {
          linkId: 'fertility',
          item: [
            {
              linkId: 'fertility-wish',
              answer: code ? [{ valueCoding: { system: YES_NO_SYSTEM, code, display: 'x' } }] : [],
            },
          ],
        },
      ],
    });
    expect(isQuestionEnabled(item, answer('Y'))).toBe(true);
    expect(isQuestionEnabled(item, answer('N'))).toBe(false);
    expect(isQuestionEnabled(item, answer(undefined))).toBe(false);
  });

  test('does not make the children of an optional repeating group required, since one empty instance is always shown', () => {
    expect(find(source, 'medication').required).toBe(true);
    expect(find(rendered, 'medication').required).toBeUndefined();
    expect(find(rendered, 'medication-stoppable').required).toBeUndefined();
    const requiredGroup = toRenderQuestionnaire({
      resourceType: 'Questionnaire',
      status: 'active',
      item: [
        {
          linkId: 'g',
          type: 'group',
          repeats: true,
          required: true,
          item: [{ linkId: 'q', type: 'string', required: true }],
        },
      ],
    });
    expect(requiredGroup.item?.[0]?.item?.[0]?.required).toBe(true);
  });

  test('leaves out a group whose items are all hidden, and never writes an empty item array (que-1, FHIR JSON)', () => {
    const hidden = [{ url: HIDDEN_URL, valueBoolean: true }];
    const q = toRenderQuestionnaire({
      resourceType: 'Questionnaire',
      status: 'active',
      item: [
        {
          linkId: 'all-hidden',
          type: 'group',
          required: true,
          item: [
            { linkId: 'h1', type: 'boolean', extension: hidden },
            { linkId: 'h2', type: 'decimal', extension: hidden },
          ],
        },
        {
          linkId: 'outer',
          type: 'group',
          item: [
            { linkId: 'inner', type: 'group', item: [{ linkId: 'h3', type: 'string', extension: hidden }] },
          ],
        },
        {
          linkId: 'kept',
          type: 'group',
          item: [
            { linkId: 'h4', type: 'string', extension: hidden },
            {
              linkId: 'question',
              type: 'string',
              item: [{ linkId: 'h5', type: 'string', extension: hidden }],
            },
          ],
        },
      ],
    });
    expect(q.item?.map((i) => i.linkId)).toEqual(['kept']);
    expect(q.item?.[0]?.item?.map((i) => i.linkId)).toEqual(['question']);
    expect(q.item?.[0]?.item?.[0]).not.toHaveProperty('item');
    expect(JSON.stringify(q)).not.toContain('[]');
  });

  test('appends the unit to the question text', () => {
    expect(find(rendered, 'semen-volume').text).toBe(`${find(source, 'semen-volume').text} (mL)`);
    expect(find(rendered, 'dry-orgasm').text).toBe(find(source, 'dry-orgasm').text);
  });

  test('leaves out the title, which the renderer would show as a second <h1>', () => {
    expect(source.title).toBeTruthy();
    expect(rendered.title).toBeUndefined();
    expect(rendered.url).toBe(source.url);
  });

  test('does not modify the Questionnaire it is given', () => {
    const before = JSON.stringify(source);
    toRenderQuestionnaire(source);
    expect(JSON.stringify(source)).toBe(before);
  });
});

describe('toRenderResponse (a pre-filled response shown in the rendered form)', () => {
  const populated: QuestionnaireResponse = JSON.parse(
    readFileSync(join(__dirname, '../fixtures/populate/diabetic-neuropathy/expected.json'), 'utf8')
  ).parameter.find((p: { name: string }) => p.name === 'response').resource;

  test('boolean answers become the Yes/No codings of the rendered questions; other answers and extensions are kept', () => {
    const rendered = toRenderResponse(source, populated);
    const answers = (qr: QuestionnaireResponse): Map<string, unknown> => {
      const out = new Map<string, unknown>();
      const walk = (items: QuestionnaireResponse['item']): void => {
        for (const i of items ?? []) {
          if (i.answer) {
            out.set(i.linkId, i.answer);
          }
          walk(i.item);
        }
      };
      walk(qr.item);
      return out;
    };
    const before = answers(populated);
    const after = answers(rendered);
    expect([...after.keys()]).toEqual([...before.keys()]);
    for (const [linkId, answer] of before) {
      const item = find(source, linkId);
      const expected =
        item.type === 'boolean'
          ? (answer as { valueBoolean: boolean }[]).map((a) => ({ valueCoding: a.valueBoolean ? YES : NO }))
          : answer;
      expect([linkId, after.get(linkId)]).toEqual([linkId, expected]);
    }
    expect(before.get('diabetes')).toEqual([{ valueBoolean: true }]);
    // Only the answers change: the items' marks of where they came from stay.
    expect(JSON.stringify(rendered).match(/re-populated-from/g)?.length).toBe(
      JSON.stringify(populated).match(/re-populated-from/g)?.length
    );
  });

  test('the given response is not modified', () => {
    const copy = structuredClone(populated);
    toRenderResponse(source, populated);
    expect(populated).toEqual(copy);
  });
});
