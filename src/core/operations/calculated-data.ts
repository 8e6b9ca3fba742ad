import type { Bundle, OperationOutcomeIssue, Questionnaire, QuestionnaireResponse } from '@medplum/fhirtypes';
import { issue } from '../outcomes';
import { calculateResponse } from '../response';
import type { EngineDeps } from './engine';

/**
 * The `data` Bundle of `$apply` with every QuestionnaireResponse calculated (SDC calculatedExpression
 * and variables) against its Questionnaire from the registry. PlanDefinition conditions read the
 * calculated items; a response as a form filler without SDC calculation sends it has none, and the plan
 * would silently come out empty. Responses whose Questionnaire is unknown are used as given, with a
 * warning. Returns the original Bundle when nothing changed.
 */
export function calculatedData(
  data: Bundle | undefined,
  deps: Pick<EngineDeps, 'registry' | 'clock'>,
  issues: OperationOutcomeIssue[]
): Bundle | undefined {
  let changed = false;
  const entry = (data?.entry ?? []).map((e, i) => {
    if (e.resource?.resourceType !== 'QuestionnaireResponse') {
      return e;
    }
    const response = e.resource as QuestionnaireResponse;
    const where = `Parameters.parameter.where(name = 'data').resource.entry[${i}].resource`;
    const questionnaire = response.questionnaire
      ? deps.registry.resolve<Questionnaire>(response.questionnaire, 'Questionnaire')
      : undefined;
    if (!questionnaire) {
      issues.push(
        issue(
          'warning',
          'not-found',
          `The Questionnaire of this QuestionnaireResponse (${response.questionnaire ?? 'none given'}) is unknown here, so its calculated items could not be computed; conditions read them as given`,
          where
        )
      );
      return e;
    }
    const calculated = calculateResponse(response, questionnaire, { clock: deps.clock });
    for (const i2 of calculated.issues) {
      // Calculation problems do not fail $apply: the conditions then see fewer case features.
      issues.push({
        ...i2,
        severity: i2.severity === 'error' || i2.severity === 'fatal' ? 'warning' : i2.severity,
      });
    }
    if (JSON.stringify(calculated.response) === JSON.stringify(response)) {
      return e;
    }
    changed = true;
    issues.push(
      issue(
        'information',
        'informational',
        'The QuestionnaireResponse was calculated (SDC calculatedExpression) before $apply: its calculated items were missing or out of date',
        where
      )
    );
    return { ...e, resource: calculated.response };
  });
  return changed && data ? { ...data, entry } : data;
}
