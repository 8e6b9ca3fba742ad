import type { OperationOutcomeIssue, Questionnaire } from '@medplum/fhirtypes';
import { compileFhirPath, FhirPathError } from '../fhirpath/fhirpath';
import { issue } from '../outcomes';
import type { ExpressionDef, QItem } from './questionnaire-model';
import { compileQuestionnaire } from './questionnaire-model';
import { arrayOf, isQuestionType } from './values';

const SIMPLE_TYPES = new Set(['boolean', 'decimal', 'integer', 'string', 'text', 'url', 'open-choice']);
const OPTION_TYPES = new Set([
  'choice',
  'open-choice',
  'decimal',
  'integer',
  'date',
  'dateTime',
  'time',
  'string',
  'quantity',
]);

/**
 * Checks the parts of a Questionnaire this machinery relies on: the R4 invariants que-0 to que-13
 * and the SDC expression rules (language, syntax, variable names, enableWhen targets). Meant for
 * the conformance tests of shipped Questionnaires; the response functions themselves tolerate a
 * Questionnaire that breaks these rules.
 * See: https://hl7.org/fhir/R4/questionnaire.html#invs
 * @param questionnaire - the Questionnaire.
 * @returns issues located in the Questionnaire (`Questionnaire.item[1].item[0]`), errors except
 *   for que-0 (a warning, as in R4).
 */
export function checkQuestionnaire(questionnaire: Questionnaire): OperationOutcomeIssue[] {
  const cq = compileQuestionnaire(questionnaire);
  const issues: OperationOutcomeIssue[] = [];
  const fail = (key: string, text: string, location: string): void => {
    issues.push(issue('error', 'invariant', `${key}: ${text}`, location));
  };
  const name = cq.questionnaire.name;
  if (typeof name === 'string' && !/^[A-Z]([A-Za-z0-9_]){0,254}$/.test(name)) {
    issues.push(
      issue(
        'warning',
        'invariant',
        `que-0: name '${name}' is not usable as an identifier`,
        'Questionnaire.name'
      )
    );
  }
  const seen = new Map<string, QItem>();
  for (const q of cq.all) {
    const it = q.item;
    const at = q.location;
    const first = seen.get(q.linkId);
    if (first) {
      fail('que-2', `linkId '${q.linkId}' is also used at ${first.location}`, `${at}.linkId`);
    } else {
      seen.set(q.linkId, q);
    }
    if (q.type === 'group' && q.children.length === 0) {
      fail('que-1', `group '${q.linkId}' has no items`, at);
    }
    if (q.type === 'display') {
      if (q.children.length > 0) {
        fail('que-1', `display item '${q.linkId}' has nested items`, at);
      }
      if (it.code !== undefined) {
        fail('que-3', `display item '${q.linkId}' has a code`, at);
      }
      if (it.required !== undefined || it.repeats !== undefined) {
        fail('que-6', `display item '${q.linkId}' has required or repeats`, at);
      }
      if (it.readOnly !== undefined) {
        fail('que-9', `display item '${q.linkId}' has readOnly`, at);
      }
    }
    if (it.answerOption !== undefined && it.answerValueSet !== undefined) {
      fail('que-4', `item '${q.linkId}' has both answerOption and answerValueSet`, at);
    }
    if (!OPTION_TYPES.has(q.type) && (it.answerOption !== undefined || it.answerValueSet !== undefined)) {
      fail('que-5', `item '${q.linkId}' of type ${q.type} cannot have answerOption or answerValueSet`, at);
    }
    if (!isQuestionType(q.type) && it.initial !== undefined) {
      fail('que-8', `${q.type} item '${q.linkId}' cannot have an initial value`, at);
    }
    if (it.maxLength !== undefined && !SIMPLE_TYPES.has(q.type)) {
      fail('que-10', `item '${q.linkId}' of type ${q.type} cannot have maxLength`, at);
    }
    if (it.answerOption !== undefined && it.initial !== undefined) {
      fail('que-11', `item '${q.linkId}' has both answerOption and initial`, at);
    }
    if (arrayOf(it.enableWhen).length > 1 && q.enableBehavior === undefined) {
      fail('que-12', `item '${q.linkId}' has several enableWhen but no enableBehavior`, at);
    }
    if (!q.repeats && arrayOf(it.initial).length > 1) {
      fail('que-13', `item '${q.linkId}' does not repeat but has several initial values`, at);
    }
    q.enableWhen.forEach((ew, i) => {
      const where = `${at}.enableWhen[${i}]`;
      if (ew.operator === 'exists' && typeof ew.answerBoolean !== 'boolean') {
        fail('que-7', `enableWhen of '${q.linkId}' uses exists without answerBoolean`, where);
      }
      const target = cq.byLinkId.get(ew.question);
      if (!target) {
        issues.push(
          issue(
            'error',
            'not-found',
            `enableWhen of '${q.linkId}' names unknown question '${String(ew.question)}'`,
            where
          )
        );
      } else if (!isQuestionType(target.type)) {
        issues.push(
          issue(
            'error',
            'invalid',
            `enableWhen of '${q.linkId}' names '${target.linkId}', which has no answers`,
            where
          )
        );
      }
    });
    if (q.calculated && !isQuestionType(q.type)) {
      issues.push(
        issue(
          'error',
          'invalid',
          `calculatedExpression on ${q.type} item '${q.linkId}' has no effect`,
          q.calculated.location
        )
      );
    }
  }
  const expressions: ExpressionDef[] = [
    ...cq.variables,
    ...cq.all.flatMap((q) => [
      ...q.variables,
      ...(q.calculated ? [q.calculated] : []),
      ...(q.enableWhenExpression ? [q.enableWhenExpression] : []),
    ]),
  ];
  for (const def of expressions) {
    const problem = def.problem ?? syntaxError(def.source);
    if (problem) {
      issues.push({
        ...issue('error', 'invalid', `${def.kind}: ${problem}`, def.location),
        diagnostics: def.text,
      });
    }
  }
  return issues;
}

function syntaxError(source: string): string | undefined {
  try {
    compileFhirPath(source);
    return undefined;
  } catch (err) {
    return err instanceof FhirPathError ? err.reason : String(err);
  }
}
