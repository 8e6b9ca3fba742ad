import type { Request } from 'express';
import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import type { JSONWebKeySet } from 'jose';
import type { CdsClientConfig } from '../config';
import { ASYMMETRIC_ALGORITHMS, bearerToken, remoteKeys, tokenError, unauthorized } from '../auth/token';

/** At most this many unexpired `jti`s are remembered (each lives at most 5 minutes plus the tolerance). */
const MAX_REMEMBERED_JTI = 100_000;
const CLOCK_TOLERANCE_S = 30;

/**
 * Authenticates the CDS client per CDS Hooks 2.0 ("Trusting CDS Clients"): a bearer JWT signed with an
 * asymmetric key of a configured client (its configured JWKS, or the `jku` of its header when that URL
 * is on the client's allow-list), with `iss` = that client, `aud` = the service URL, `exp`, `iat` (at
 * most 5 minutes old) and a `jti` never seen before (a replayed token is refused).
 * See: https://cds-hooks.hl7.org/2.0/#trusting-cds-clients
 */
export class CdsClientAuth {
  private readonly local = new Map<string, JWTVerifyGetKey>();
  private readonly remote = new Map<string, JWTVerifyGetKey>();
  /** `iss` + `jti` → expiry (seconds since the epoch), oldest first. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly clients: readonly CdsClientConfig[],
    private readonly now: () => number = Date.now
  ) {
    for (const client of clients) {
      if (client.jwks) {
        this.local.set(client.issuer, createLocalJWKSet(client.jwks as unknown as JSONWebKeySet));
      }
      for (const url of client.jkuAllowList ?? []) {
        this.remote.set(`${client.issuer}\u0000${url}`, remoteKeys(new URL(url)));
      }
    }
  }

  /**
   * Verifies the request's token for one service; throws an HttpError (401, or 502 when an allowed
   * `jku` cannot be fetched).
   * @param req - the request
   * @param audience - the service URL
   */
  async verify(req: Request, audience: string): Promise<JWTPayload> {
    const token = bearerToken(req);
    let issuer: unknown;
    let jku: unknown;
    try {
      issuer = decodeJwt(token).iss;
      jku = decodeProtectedHeader(token).jku;
    } catch {
      throw unauthorized('security', 'The token is malformed');
    }
    const client = this.clients.find((c) => c.issuer === issuer);
    if (!client) {
      throw unauthorized('security', 'The token was issued by an unknown CDS client');
    }
    const keys =
      jku === undefined
        ? this.local.get(client.issuer)
        : typeof jku === 'string'
          ? this.remote.get(`${client.issuer}\u0000${jku}`)
          : undefined;
    if (!keys) {
      throw unauthorized(
        'security',
        jku === undefined
          ? 'No keys are configured for this CDS client'
          : "The token's jku is not an allowed key set"
      );
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: client.issuer,
        audience,
        algorithms: [...ASYMMETRIC_ALGORITHMS],
        requiredClaims: ['exp', 'iat', 'jti'],
        maxTokenAge: 300 + CLOCK_TOLERANCE_S,
        clockTolerance: CLOCK_TOLERANCE_S,
        currentDate: new Date(this.now()),
      }));
    } catch (err) {
      throw tokenError(err);
    }
    this.remember(client.issuer, String(payload.jti), payload.exp!);
    return payload;
  }

  private remember(issuer: string, jti: string, exp: number): void {
    const nowS = Math.floor(this.now() / 1000);
    for (const [key, expiry] of this.seen) {
      if (expiry + CLOCK_TOLERANCE_S >= nowS && this.seen.size < MAX_REMEMBERED_JTI) {
        break;
      }
      this.seen.delete(key);
    }
    const key = `${issuer}\u0000${jti}`;
    if (this.seen.has(key)) {
      throw unauthorized('security', 'The token was already used (jti replayed)');
    }
    this.seen.set(key, exp);
  }
}
