import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { ErrorObject, ValidateFunction } from 'ajv';
import Ajv from 'ajv';
import { issue, ReFhirError } from '../outcomes';
import type { CdsRequest, CdsService } from './types';

/**
 * JSON Schema of a CDS Hooks 2.0 hook request, written from the specification's "HTTP Request" table:
 * `hook`, `hookInstance` and `context` (with `patientId` for the patient hooks this module serves) are
 * required; `fhirAuthorization` needs `fhirServer`; a prefetch value is a resource or `null`.
 * See: https://cds-hooks.hl7.org/2.0/#http-request_1
 */
export const CDS_REQUEST_SCHEMA = {
  type: 'object',
  required: ['hook', 'hookInstance', 'context'],
  properties: {
    hook: { type: 'string', minLength: 1, maxLength: 256 },
    hookInstance: { type: 'string', minLength: 1, maxLength: 256 },
    fhirServer: { type: 'string', pattern: '^https?://', maxLength: 2048 },
    fhirAuthorization: {
      type: 'object',
      required: ['access_token', 'token_type', 'expires_in', 'scope', 'subject'],
      properties: {
        access_token: { type: 'string', minLength: 1 },
        token_type: { const: 'Bearer' },
        expires_in: { type: 'integer', minimum: 0 },
        scope: { type: 'string' },
        subject: { type: 'string' },
        patient: { type: 'string' },
      },
    },
    context: {
      type: 'object',
      required: ['patientId'],
      properties: {
        patientId: { type: 'string', pattern: '^[A-Za-z0-9\\-.]{1,64}$' },
        userId: { type: 'string', maxLength: 256 },
        encounterId: { type: 'string', pattern: '^[A-Za-z0-9\\-.]{1,64}$' },
        draftOrders: { $ref: '#/definitions/bundle' },
      },
    },
    prefetch: {
      type: 'object',
      additionalProperties: { anyOf: [{ type: 'null' }, { $ref: '#/definitions/resource' }] },
    },
  },
  dependencies: { fhirAuthorization: ['fhirServer'] },
  definitions: {
    resource: {
      type: 'object',
      required: ['resourceType'],
      properties: { resourceType: { type: 'string', pattern: '^[A-Z][A-Za-z]{1,63}$' } },
    },
    bundle: {
      type: 'object',
      required: ['resourceType'],
      properties: { resourceType: { const: 'Bundle' } },
    },
  },
} as const;

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  compiled ??= new Ajv({ allErrors: true, strict: true }).compile(CDS_REQUEST_SCHEMA);
  return compiled;
}

/**
 * Checks a hook call's body against the request schema and the service it was sent to; throws a
 * `structural` ReFhirError (400) that names each problem by its JSON path.
 * @param body - the parsed JSON body
 * @param service - the service called
 */
export function checkCdsRequest(body: unknown, service: CdsService): CdsRequest {
  const validate = validator();
  if (!validate(body)) {
    throw new ReFhirError('structural', (validate.errors ?? []).slice(0, 20).map(schemaIssue));
  }
  const request = body as CdsRequest;
  if (request.hook !== service.hook) {
    throw new ReFhirError('structural', [
      issue(
        'error',
        'invalid',
        `Service ${service.id} answers the hook ${JSON.stringify(service.hook)}, not ${JSON.stringify(request.hook.slice(0, 64))}`,
        'hook'
      ),
    ]);
  }
  return request;
}

function schemaIssue(error: ErrorObject): OperationOutcomeIssue {
  const path = error.instancePath === '' ? '(body)' : error.instancePath.slice(1).replace(/\//g, '.');
  const detail =
    error.keyword === 'required'
      ? `is missing ${String((error.params as { missingProperty?: string }).missingProperty)}`
      : error.keyword === 'dependencies'
        ? `needs ${String((error.params as { missingProperty?: string }).missingProperty)} as well`
        : (error.message ?? 'is invalid');
  return issue('error', error.keyword === 'required' ? 'required' : 'invalid', `${path} ${detail}`, path);
}
