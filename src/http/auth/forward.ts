import type { Request } from 'express';
import type { AppConfig } from '../config';
import type { CallContext } from '../upstream/client';
import { WRITTEN_TYPES } from './scopes';

/**
 * The scopes the clinician page asks for in a SMART launch when `SMART_SCOPE` does not say otherwise:
 * the launch context and the user's identity; the Questionnaire; the patient record `$populate` reads; create, read and
 * update of the QuestionnaireResponse (the page stores it on the EHR, this server reads it back); and on
 * every type `$re-evaluate` writes (Condition, Observation and MedicationRequest among them), what its conditional writes need there (search, create, update, read,
 * and delete for the duplicate repair of docs/upstream.md).
 */
export const SMART_DEFAULT_SCOPE = [
  'launch',
  'openid',
  'fhirUser',
  'patient/Patient.r',
  // The Questionnaire is read from this server, which checks the same token.
  'user/Questionnaire.r',
  'patient/QuestionnaireResponse.cru',
  ...WRITTEN_TYPES.map((t) => `patient/${t}.cruds`),
  ...['MedicationStatement', 'Procedure'].map((t) => `patient/${t}.rs`),
].join(' ');

/**
 * Checks at start that forwarding the user's token is configured safely: only a token this server has
 * verified is ever forwarded, so auth must be on; and a server credential beside it would be ambiguous.
 * @param config - The app configuration.
 */
export function checkForwarding(config: AppConfig): void {
  const upstream = config.upstream;
  if (!upstream?.forwardUserToken) {
    return;
  }
  if (!config.auth) {
    throw new Error(
      'Forwarding the user token to the upstream (FHIR_UPSTREAM_FORWARD_TOKEN) needs auth (AUTH_ISSUER, …) to verify it first'
    );
  }
  if (upstream.token || upstream.backendServices) {
    throw new Error('Forwarding the user token excludes a static upstream token and SMART Backend Services');
  }
}

/**
 * What an upstream call is made for: the request id, the request's logger and, when the upstream is
 * configured to act as the user, the user's verified token (the upstream, typically the EHR that launched
 * the page, then applies the user's own scopes to every read and write). The token is only ever sent to
 * the configured upstream, never to a URL taken from the request.
 * @param req - The request (after authenticate).
 * @param config - The app configuration.
 */
export function upstreamCallContext(req: Request, config: AppConfig): CallContext {
  return {
    requestId: req.requestId,
    log: req.log,
    ...(config.upstream?.forwardUserToken && req.auth?.token ? { bearer: req.auth.token } : {}),
  };
}

/**
 * The origins the clinician page may connect to in SMART mode (its Content-Security-Policy
 * `connect-src`): the upstream FHIR server (the EHR's, where the launch's `iss` points), and the
 * authorization server's issuer and token endpoint, where the page discovers and exchanges its code.
 * @param config - The app configuration.
 */
export function smartOrigins(config: AppConfig): string[] {
  const urls = [config.upstream?.url, config.auth?.issuer, config.auth?.tokenUrl];
  const origins = urls.flatMap((u) => {
    if (!u) {
      return [];
    }
    try {
      return [new URL(u).origin];
    } catch {
      return [];
    }
  });
  return [...new Set(origins)];
}
