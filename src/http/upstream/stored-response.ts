import { isDeepStrictEqual } from 'node:util';
import type { QuestionnaireResponse } from '@medplum/fhirtypes';
import { httpError } from '../errors';
import type { CallContext, UpstreamClient } from './client';

/**
 * The response to evaluate in upstream mode: the copy stored on the upstream under the submitted id,
 * never the client's. The writes go out with the server's own credentials, so the client's copy cannot
 * be trusted to say whose records they are: the stored copy's subject must be the submitted subject
 * (else 409), and the submitted copy must be that stored version apart from its `meta` (else 409: an
 * amendment is stored first, then evaluated). The caller checks the subject against the token.
 * @param upstream - The upstream client.
 * @param submitted - The client's copy.
 * @param context - Request id and logger.
 */
export async function storedResponse(
  upstream: UpstreamClient,
  submitted: QuestionnaireResponse,
  context: CallContext
): Promise<QuestionnaireResponse> {
  if (typeof submitted.id !== 'string' || submitted.id === '') {
    throw httpError(
      422,
      'required',
      'With an upstream FHIR server, the QuestionnaireResponse must be stored there first and submitted with its id'
    );
  }
  const stored = await upstream.read<QuestionnaireResponse>('QuestionnaireResponse', submitted.id, context);
  if (!stored) {
    throw httpError(
      422,
      'not-found',
      'The QuestionnaireResponse is not stored on the upstream FHIR server; store it there first'
    );
  }
  if (stored.subject?.reference !== submitted.subject?.reference) {
    throw httpError(
      409,
      'conflict',
      'The submitted subject is not the subject of the stored QuestionnaireResponse with this id'
    );
  }
  if (!isDeepStrictEqual(withoutMeta(stored), withoutMeta(submitted))) {
    throw httpError(
      409,
      'conflict',
      'The submitted QuestionnaireResponse is not the version stored on the upstream FHIR server; store it there first, then submit it'
    );
  }
  return stored;
}

function withoutMeta(response: QuestionnaireResponse): Omit<QuestionnaireResponse, 'meta'> {
  const rest = { ...response };
  delete rest.meta;
  return rest;
}
