import { Router } from 'express';
import type { CapabilityStatement } from '@medplum/fhirtypes';
import { RESPONSE_NEED, WRITE_NEEDS } from '../auth/scopes';
import type { ServedType } from '../capability';
import { capabilityStatement } from '../capability';
import type { AppContext } from '../context';
import { methodNotAllowed } from '../errors';
import { sendResource } from '../send';
import { version } from '../../../package.json';

/**
 * `GET [base]/metadata`: the CapabilityStatement generated from what the route modules serve. Public,
 * as R4 requires of `metadata` (no token needed even when auth is on).
 * See: https://hl7.org/fhir/R4/http.html#capabilities
 * @param ctx - The app context.
 * @param served - What the other route modules serve.
 * @param date - When the statement was generated.
 */
export function metadataRoutes(ctx: AppContext, served: readonly ServedType[], date: string): Router {
  const router = Router();
  const statements = new Map<string, CapabilityStatement>();
  router.get('/metadata', (req, res) => {
    const baseUrl = ctx.baseUrl(req);
    let statement = statements.get(baseUrl);
    if (!statement) {
      statement = capabilityStatement(served, {
        baseUrl,
        date,
        version,
        auth: ctx.config.auth,
        cors: (ctx.config.corsOrigins?.length ?? 0) > 0,
        upstream: ctx.upstream !== undefined,
      });
      // One entry per distinct Host the server is reached by; a handful in practice.
      if (statements.size < 16) {
        statements.set(baseUrl, statement);
      }
    }
    sendResource(req, res, 200, statement);
  });
  router.all('/metadata', methodNotAllowed(['GET']));
  return router;
}

/**
 * `GET [base]/.well-known/smart-configuration` (only mounted when auth is configured): where to get
 * tokens and what this resource server enforces.
 * See: https://hl7.org/fhir/smart-app-launch/conformance.html
 * @param ctx - The app context.
 */
export function smartConfigurationRoutes(ctx: AppContext): Router {
  const router = Router();
  const auth = ctx.config.auth!;
  const scopes = [RESPONSE_NEED, ...WRITE_NEEDS].map((n) => `${n.resourceType}.${n.anyOf.join('')}`);
  router.get('/.well-known/smart-configuration', (_req, res) => {
    res.json({
      issuer: auth.issuer,
      ...(auth.jwksUrl ? { jwks_uri: auth.jwksUrl } : {}),
      ...(auth.authorizeUrl ? { authorization_endpoint: auth.authorizeUrl } : {}),
      ...(auth.tokenUrl ? { token_endpoint: auth.tokenUrl } : {}),
      grant_types_supported: ['authorization_code', 'client_credentials'],
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      scopes_supported: [
        ...new Set(['patient', 'user', 'system'].flatMap((c) => scopes.map((s) => `${c}/${s}`))),
        'launch/patient',
      ],
      capabilities: [
        'permission-v1',
        'permission-v2',
        'permission-patient',
        'permission-user',
        'client-confidential-asymmetric',
      ],
    });
  });
  router.all('/.well-known/smart-configuration', methodNotAllowed(['GET']));
  return router;
}
