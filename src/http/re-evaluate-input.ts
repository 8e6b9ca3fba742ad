import type { QuestionnaireResponse } from '@medplum/fhirtypes';
import { isObject } from '../core/json';
import type { EvaluateOptions } from '../core/operations';
import type { AuthContext } from './auth/scopes';
import { authorize, RESPONSE_NEED, WRITE_NEEDS } from './auth/scopes';
import { httpError } from './errors';
import { inlineDefinition } from './inline-definitions';
import { hasBody, OperationInput } from './parameters';

/** The submitted response and the other inputs, from a bare QuestionnaireResponse or a Parameters body. */
export interface ResponseRequest {
  readonly response: QuestionnaireResponse;
  readonly params?: OperationInput;
}

/**
 * Reads an operation's input: a bare QuestionnaireResponse, or Parameters with `questionnaire-response`
 * (and the operation's other parameters). Anything else is 400.
 * @param body - The parsed body.
 * @param known - The Parameters names the operation declares.
 */
export function responseRequest(body: unknown, known: readonly string[]): ResponseRequest {
  if (!hasBody(body)) {
    throw httpError(400, 'required', 'The body must be a QuestionnaireResponse or a Parameters resource');
  }
  if (isObject(body) && body.resourceType === 'QuestionnaireResponse') {
    return { response: body as unknown as QuestionnaireResponse };
  }
  if (isObject(body) && body.resourceType === 'Parameters') {
    const params = OperationInput.fromParameters(body, known);
    const response = params.resource<QuestionnaireResponse>(
      'questionnaire-response',
      'QuestionnaireResponse'
    );
    if (!response) {
      throw httpError(400, 'required', 'Parameter questionnaire-response is required');
    }
    return { response, params };
  }
  throw httpError(400, 'structure', 'The body must be a QuestionnaireResponse or a Parameters resource');
}

/** The subject a patient-limited token must match. */
export function subjectOf(response: QuestionnaireResponse): { subject: string | undefined } {
  return {
    subject: typeof response.subject?.reference === 'string' ? response.subject.reference : undefined,
  };
}

/** `$re-evaluate`'s Parameters names. */
const RE_EVALUATE_PARAMETERS = [
  'questionnaire-response',
  'questionnaire',
  'encounter',
  'practitioner',
  'organization',
];

/** What `$re-evaluate` evaluates: the submitted response and the evaluation's options. */
export interface ReEvaluateInput {
  readonly submitted: QuestionnaireResponse;
  readonly options: EvaluateOptions;
}

/**
 * `$re-evaluate`'s input from its parsed body, checked in the order the route has always checked it:
 * the body's shape and parameters (400), the token's scopes and patient (403), a Questionnaire given
 * inline only where the server allows it (400), the reference parameters (400). The same code runs on
 * the main thread (a parsed body) and in a pool worker (a body sent as bytes, see tasks.ts), so both
 * give the same answers.
 * @param body - The parsed body.
 * @param req - The request, or its `auth` alone.
 * @param ctx - The app context, or its `inlineDefinitions` setting alone.
 */
export function reEvaluateInput(
  body: unknown,
  req: { readonly auth?: Pick<AuthContext, 'scopes' | 'patient'> },
  ctx: { readonly config: { readonly inlineDefinitions?: boolean } }
): ReEvaluateInput {
  const { response: submitted, params } = responseRequest(body, RE_EVALUATE_PARAMETERS);
  authorize(req, [RESPONSE_NEED, ...WRITE_NEEDS], subjectOf(submitted));
  return {
    submitted,
    options: {
      questionnaire: inlineDefinition(ctx, params, 'questionnaire', 'Questionnaire'),
      encounter: params?.reference('encounter'),
      practitioner: params?.reference('practitioner'),
      organization: params?.reference('organization'),
    },
  };
}
