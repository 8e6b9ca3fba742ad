import type { KeyObject } from 'node:crypto';
import { createPublicKey } from 'node:crypto';
import { isNativeError } from 'node:util/types';
import type { Request, RequestHandler } from 'express';
import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import { createRemoteJWKSet, errors, jwtVerify } from 'jose';
import type { AuthConfig } from '../config';
import { HttpError, httpError } from '../errors';
import type { AuthContext } from './scopes';
import { parseScopes } from './scopes';

/** Asymmetric algorithms only: an HMAC or `none` token is never accepted, whatever its header says. */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;

/**
 * Verifies a bearer token and returns its claims; rejects with an HttpError (401, or 502 with the
 * KeysUnavailable cause when the JWKS cannot be had), or with our own bug as it is.
 */
export type TokenVerifier = (token: string) => Promise<JWTPayload>;

/**
 * Builds the verifier: signature with the JWKS (key chosen by `kid`) or the one configured public key;
 * `iss`, `aud`, `exp` (required) and `nbf` checked with a small clock tolerance; the algorithm must be in
 * the asymmetric allow-list, so `alg: none` and the HS256-with-the-RSA-public-key confusion both fail.
 * Throws at build time on a configuration that would allow a symmetric or unsigned token.
 * See: https://datatracker.ietf.org/doc/html/rfc8725 (JWT best current practices)
 * @param config - The auth settings.
 */
export function createTokenVerifier(config: AuthConfig): TokenVerifier {
  const algorithms = [...(config.algorithms ?? ASYMMETRIC_ALGORITHMS)];
  const refused = algorithms.filter((a) => !(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(a));
  if (refused.length > 0) {
    throw new Error(
      `Refusing to accept JWT algorithms ${refused.join(', ')}: only asymmetric ones are allowed`
    );
  }
  const key = config.jwksUrl ? remoteKeys(new URL(config.jwksUrl)) : staticKey(config.publicKey);
  const options = {
    issuer: config.issuer,
    audience: config.audience,
    algorithms,
    requiredClaims: ['exp'],
    clockTolerance: config.clockToleranceSeconds ?? 30,
  };
  return async (token) => {
    try {
      const { payload } =
        typeof key === 'function'
          ? await jwtVerify(token, key, options)
          : await jwtVerify(token, key, options);
      return payload;
    } catch (err) {
      throw tokenError(err);
    }
  };
}

/** The authorization server's keys could not be had: its failure, not the token's (502). */
class KeysUnavailable extends Error {
  constructor(cause: unknown) {
    super('The JWKS could not be retrieved', { cause });
    this.name = 'KeysUnavailable';
  }
}

/**
 * The JWKS as a verification callback. A key that is not in the set is the token's problem (401); any
 * other failure to get the set (unreachable, an HTTP error, not JSON, not a JWKS) is the key server's,
 * and still refuses the request, as a 502.
 */
export function remoteKeys(url: URL): JWTVerifyGetKey {
  const jwks = createRemoteJWKSet(url, { timeoutDuration: 5000, cooldownDuration: 30_000 });
  return async (header, token) => {
    try {
      return await jwks(header, token);
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
        throw err;
      }
      throw new KeysUnavailable(err);
    }
  };
}

/** A static public key (PEM or JWK JSON) as a verification callback that also checks the `kid`. */
function staticKey(text: string | undefined): JWTVerifyGetKey | KeyObject {
  if (!text) {
    throw new Error('Auth needs a JWKS URL or a public key');
  }
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) {
    // createPublicKey would derive the public half of a private key; a private key has no place here.
    if (trimmed.includes('PRIVATE KEY')) {
      throw new Error('The auth key must be a public key');
    }
    return publicOnly(createPublicKey(trimmed));
  }
  const jwk = JSON.parse(trimmed) as { kid?: string; d?: string };
  if (jwk.d !== undefined) {
    throw new Error('The auth key must be a public key');
  }
  const key = publicOnly(createPublicKey({ key: jwk, format: 'jwk' }));
  if (jwk.kid === undefined) {
    return key;
  }
  return (header) => {
    if (header.kid !== undefined && header.kid !== jwk.kid) {
      throw new errors.JWKSNoMatchingKey();
    }
    return key;
  };
}

function publicOnly(key: KeyObject): KeyObject {
  if (key.type !== 'public') {
    throw new Error('The auth key must be a public key');
  }
  return key;
}

/** The `WWW-Authenticate` challenge of a 401. */
export const CHALLENGE = 'Bearer realm="re-fhir"';

export function unauthorized(code: 'login' | 'expired' | 'security', text: string): HttpError {
  return httpError(401, code, text, {
    'WWW-Authenticate': `${CHALLENGE}, error="invalid_token", error_description="${text}"`,
  });
}

/** Why a token failed, as an HttpError in words safe to send (no claim values); our own bug as it is. */
export function tokenError(err: unknown): unknown {
  if (err instanceof errors.JWTExpired) {
    return unauthorized('expired', 'The token has expired');
  }
  if (err instanceof errors.JWTClaimValidationFailed) {
    switch (err.claim) {
      case 'nbf':
        return unauthorized('security', 'The token is not yet valid');
      case 'iss':
        return unauthorized('security', 'The token was issued by an unexpected issuer');
      case 'aud':
        return unauthorized('security', 'The token is for another audience');
      default:
        return unauthorized('security', `The token's ${err.claim} claim is missing or invalid`);
    }
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) {
    return unauthorized('security', 'The token is signed with an algorithm this server does not accept');
  }
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
    return unauthorized('security', "No known key matches the token's key id");
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return unauthorized('security', "The token's signature is invalid");
  }
  if (err instanceof KeysUnavailable) {
    return httpError(
      502,
      'exception',
      'The authorization server keys could not be retrieved',
      {},
      { cause: err }
    );
  }
  if (err instanceof errors.JOSEError) {
    return unauthorized('security', 'The token is malformed');
  }
  // Anything else is our bug, not the key server's: still refused (fail closed), as a logged 500.
  return err;
}

/**
 * The request's bearer token; 401 with `WWW-Authenticate` when the Authorization header is missing or
 * not `Bearer <token>`.
 * @param req - The request.
 */
export function bearerToken(req: Request): string {
  const header = req.get('authorization');
  const match = header === undefined ? null : /^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(header);
  if (!match) {
    throw httpError(
      401,
      'login',
      header === undefined ? 'A bearer token is required' : 'The Authorization header must be Bearer <token>',
      { 'WWW-Authenticate': CHALLENGE }
    );
  }
  return match[1]!;
}

/**
 * Middleware: requires `Authorization: Bearer <jwt>`, verifies it and attaches `req.auth` (scopes and
 * patient context). Missing or invalid → 401 with `WWW-Authenticate`.
 * @param verify - The token verifier.
 */
export function authenticate(verify: TokenVerifier): RequestHandler {
  return async (req, _res, next) => {
    const token = bearerToken(req);
    let claims: JWTPayload;
    try {
      claims = await verify(token);
    } catch (err) {
      if (err instanceof HttpError && err.cause instanceof KeysUnavailable) {
        req.log.warn({ cause: causes(err.cause.cause) }, 'authorization server keys unavailable');
      }
      throw err;
    }
    req.auth = { ...toContext(claims), token };
    next();
  };
}

/**
 * Why the JWKS could not be had, outermost first (jose's error, then fetch's, then the socket's). Their
 * messages are safe to log: they come from fetching the key set, never from the request.
 */
function causes(err: unknown): Record<string, unknown>[] {
  const chain: Record<string, unknown>[] = [];
  // isNativeError, not instanceof: an error from another realm (a vm context, as under jest) counts too.
  for (let e = err; isNativeError(e) && chain.length < 4; e = e.cause) {
    const code = (e as NodeJS.ErrnoException).code;
    chain.push({ type: e.name, ...(code === undefined ? {} : { code }), message: e.message });
  }
  return chain;
}

function toContext(claims: JWTPayload): AuthContext {
  const raw = claims.scope ?? claims.scp;
  const scope = Array.isArray(raw) ? raw.join(' ') : typeof raw === 'string' ? raw : '';
  return {
    subject: claims.sub,
    scopes: parseScopes(scope),
    patient: typeof claims.patient === 'string' ? claims.patient : undefined,
  };
}
