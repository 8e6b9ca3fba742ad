import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { checkQuestionnaire } from '../../../src/core/response/check-questionnaire';
import { expressionExtension, intake, questionnaire, variable } from './support';

const keys = (issues: OperationOutcomeIssue[]): [string, string][] =>
  issues.map((i) => [i.details!.text!.split(':')[0]!, i.expression![0]!]);

describe('checkQuestionnaire', () => {
  test('the intake fixture breaks no rule', () => {
    expect(checkQuestionnaire(intake())).toEqual([]);
  });

  test('reports each R4 invariant with its location', () => {
    const q = questionnaire(
      [
        { linkId: 'g', type: 'group' },
        {
          linkId: 'd',
          type: 'display',
          required: true,
          readOnly: true,
          code: [{ code: 'x' }],
          item: [{ linkId: 'dd', type: 'string' }],
        },
        {
          linkId: 'c',
          type: 'choice',
          answerOption: [{ valueString: 'a' }],
          answerValueSet: 'http://vs',
          initial: [{ valueString: 'a' }],
        },
        { linkId: 'b', type: 'boolean', answerValueSet: 'http://vs', maxLength: 2 },
        {
          linkId: 'att',
          type: 'attachment',
          maxLength: 2,
          initial: [{ valueString: 'a' }, { valueString: 'b' }],
        },
        {
          linkId: 'e',
          type: 'string',
          enableWhen: [
            { question: 'b', operator: 'exists', answerString: 'yes' },
            { question: 'nowhere', operator: '=', answerBoolean: true },
            { question: 'g', operator: 'exists', answerBoolean: true },
          ],
        },
        { linkId: 'b', type: 'boolean' },
      ],
      { name: 'not an identifier' }
    );
    expect(keys(checkQuestionnaire(q))).toEqual([
      ['que-0', 'Questionnaire.name'],
      ['que-1', 'Questionnaire.item[0]'],
      ['que-1', 'Questionnaire.item[1]'],
      ['que-3', 'Questionnaire.item[1]'],
      ['que-6', 'Questionnaire.item[1]'],
      ['que-9', 'Questionnaire.item[1]'],
      ['que-4', 'Questionnaire.item[2]'],
      ['que-11', 'Questionnaire.item[2]'],
      ['que-5', 'Questionnaire.item[3]'],
      ['que-10', 'Questionnaire.item[4]'],
      ['que-13', 'Questionnaire.item[4]'],
      ['que-12', 'Questionnaire.item[5]'],
      ['que-7', 'Questionnaire.item[5].enableWhen[0]'],
      ["enableWhen of 'e' names unknown question 'nowhere'", 'Questionnaire.item[5].enableWhen[1]'],
      ["enableWhen of 'e' names 'g', which has no answers", 'Questionnaire.item[5].enableWhen[2]'],
      ['que-2', 'Questionnaire.item[6].linkId'],
    ]);
  });

  test('reports expressions that cannot run', () => {
    const q = questionnaire(
      [
        { linkId: 'x', type: 'integer', extension: [expressionExtension('calculatedExpression', '1 +')] },
        {
          linkId: 'y',
          type: 'string',
          extension: [expressionExtension('enableWhenExpression', 'true', 'text/cql')],
        },
        {
          linkId: 'g',
          type: 'group',
          item: [{ linkId: 'z', type: 'string' }],
          extension: [expressionExtension('calculatedExpression', '1')],
        },
      ],
      { extension: [variable('ok', '1'), variable('ok', '2')] }
    );
    expect(checkQuestionnaire(q).map((i) => [i.code, i.expression![0], i.details!.text])).toEqual([
      [
        'invalid',
        'Questionnaire.item[2].extension[0]',
        "calculatedExpression on group item 'g' has no effect",
      ],
      ['invalid', 'Questionnaire.extension[1]', "variable: variable 'ok' is defined twice on the same node"],
      ['invalid', 'Questionnaire.item[0].extension[0]', expect.stringMatching(/^calculatedExpression: /)],
      [
        'invalid',
        'Questionnaire.item[1].extension[0]',
        "enableWhenExpression: expression language 'text/cql' is not supported (only text/fhirpath)",
      ],
    ]);
  });
});
