/**
 * Generic QuestionnaireResponse machinery: answer access, enableWhen, validation against the
 * Questionnaire and SDC calculation. Works for any R4 Questionnaire.
 */
export type { ResponseIndex, ResponseItemRef } from './answers';
export {
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
} from './answers';
export type { CalculateOptions, CalculateResult } from './calculate';
export { calculateResponse } from './calculate';
export { checkQuestionnaire } from './check-questionnaire';
export type { EnableWhenResult } from './enable-when';
export { evaluateEnableWhen } from './enable-when';
export type { ExpressionOptions } from './expressions';
export type { ValidateResponseOptions, ValueSetMembership } from './validate-response';
export { validateResponse } from './validate-response';
