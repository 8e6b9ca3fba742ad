import type { QuestionnaireResponse } from '@medplum/fhirtypes';
import {
  attachmentAnswer,
  booleanAnswer,
  booleanAnswers,
  codingAnswer,
  codingAnswers,
  dateAnswer,
  dateTimeAnswer,
  decimalAnswer,
  decimalAnswers,
  indexResponse,
  integerAnswer,
  integerAnswers,
  isAnswered,
  quantityAnswer,
  referenceAnswer,
  stringAnswer,
  stringAnswers,
  timeAnswer,
  uriAnswer,
} from '../../../src/core/response/answers';
import { ATC, validIntakeResponse } from './support';

const nested: QuestionnaireResponse = {
  resourceType: 'QuestionnaireResponse',
  status: 'completed',
  item: [
    {
      linkId: 'g',
      item: [
        {
          linkId: 'q',
          answer: [
            { valueBoolean: true, item: [{ linkId: 'under-answer', answer: [{ valueString: 'deep' }] }] },
          ],
        },
      ],
    },
    { linkId: 'all-types', answer: [{ valueDate: '2020-01-02' }] },
    { linkId: 'dt', answer: [{ valueDateTime: '2020-01-02T03:04:05Z' }] },
    { linkId: 't', answer: [{ valueTime: '10:00:00' }] },
    { linkId: 'u', answer: [{ valueUri: 'http://x' }] },
    { linkId: 'qty', answer: [{ valueQuantity: { value: 3, unit: 'mg' } }] },
    { linkId: 'ref', answer: [{ valueReference: { reference: 'Patient/1' } }] },
    { linkId: 'att', answer: [{ valueAttachment: { contentType: 'text/plain' } }] },
    {
      linkId: 'multi',
      answer: [{ valueInteger: 1 }, {}, { valueInteger: 2 }, { valueString: 'not an integer' }],
    },
  ],
};

describe('answers', () => {
  test('finds items by linkId through groups and through answers', () => {
    const index = indexResponse(nested);
    expect(stringAnswer(index, 'under-answer')).toBe('deep');
    expect(index.items('under-answer').map((r) => r.expression)).toEqual([
      'QuestionnaireResponse.item[0].item[0].answer[0].item[0]',
    ]);
    const ref = index.items('under-answer')[0]!;
    expect(ref.parent?.linkId).toBe('q');
    expect(ref.parentAnswerIndex).toBe(0);
    expect(ref.parent?.parent?.linkId).toBe('g');
  });

  test('keeps repeating-group instances apart', () => {
    const index = indexResponse(validIntakeResponse());
    const instances = index.items('medications');
    expect(instances).toHaveLength(2);
    expect(instances.map((m) => codingAnswer(index, 'medication', m)?.code)).toEqual([
      'warfarin',
      'sertraline',
    ]);
    expect(instances.map((m) => booleanAnswer(index, 'stoppable', m))).toEqual([false, true]);
    expect(instances.map((m) => stringAnswer(index, 'stop-reason', m))).toEqual([undefined, 'side effects']);
    expect(codingAnswers(index, 'medication')).toEqual([
      { system: ATC, code: 'warfarin' },
      { system: ATC, code: 'sertraline' },
    ]);
    expect(booleanAnswers(index, 'stoppable')).toEqual([false, true]);
  });

  test('typed getters read only their own value type', () => {
    const index = indexResponse(nested);
    expect(integerAnswers(index, 'multi')).toEqual([1, 2]);
    expect(integerAnswer(index, 'multi')).toBe(1);
    expect(stringAnswers(index, 'multi')).toEqual(['not an integer']);
    expect(decimalAnswer(index, 'multi')).toBeUndefined();
    expect(decimalAnswers(index, 'multi')).toEqual([]);
    expect(booleanAnswer(index, 'q')).toBe(true);
    expect(dateAnswer(index, 'all-types')).toBe('2020-01-02');
    expect(dateTimeAnswer(index, 'dt')).toBe('2020-01-02T03:04:05Z');
    expect(timeAnswer(index, 't')).toBe('10:00:00');
    expect(uriAnswer(index, 'u')).toBe('http://x');
    expect(quantityAnswer(index, 'qty')).toEqual({ value: 3, unit: 'mg' });
    expect(referenceAnswer(index, 'ref')).toEqual({ reference: 'Patient/1' });
    expect(attachmentAnswer(index, 'att')).toEqual({ contentType: 'text/plain' });
  });

  test('an unknown linkId has no answers', () => {
    const index = indexResponse(nested);
    expect(index.items('nope')).toEqual([]);
    expect(index.answers('nope')).toEqual([]);
    expect(booleanAnswer(index, 'nope')).toBeUndefined();
    expect(isAnswered(index, 'nope')).toBe(false);
  });

  test('isAnswered needs an answer with a value', () => {
    const index = indexResponse({
      resourceType: 'QuestionnaireResponse',
      status: 'completed',
      item: [
        { linkId: 'empty', answer: [{}] },
        { linkId: 'none' },
        { linkId: 'yes', answer: [{ valueBoolean: false }] },
      ],
    });
    expect(['empty', 'none', 'yes'].map((l) => isAnswered(index, l))).toEqual([false, false, true]);
  });

  test('lists every item in document order and tolerates malformed parts', () => {
    const odd = {
      resourceType: 'QuestionnaireResponse',
      status: 'completed',
      item: [
        null,
        { linkId: 'a', answer: 'not a list', item: [{ linkId: 'b' }] },
        'x',
        { answer: [{ item: [{ linkId: 'c' }] }] },
      ],
    } as unknown as QuestionnaireResponse;
    const index = indexResponse(odd);
    expect(index.all.map((r) => [r.linkId, r.expression])).toEqual([
      ['a', 'QuestionnaireResponse.item[1]'],
      ['b', 'QuestionnaireResponse.item[1].item[0]'],
      ['', 'QuestionnaireResponse.item[3]'],
      ['c', 'QuestionnaireResponse.item[3].answer[0].item[0]'],
    ]);
    expect(index.roots.map((r) => r.linkId)).toEqual(['a', '']);
  });
});
