import { randomUUID } from 'node:crypto';
import type { CryptoKey, JWK, KeyObject } from 'jose';
import { importJWK, importPKCS8, SignJWT } from 'jose';
import type { BackendServicesConfig, UpstreamConfig } from '../config';
import { httpError } from '../errors';
import { WRITTEN_TYPES } from '../auth/scopes';

/** Supplies the bearer token for upstream calls. */
export interface TokenProvider {
  /** The token to send, or undefined for none. */
  token(): Promise<string | undefined>;
  /** Forgets a cached token (after the upstream answered 401). Returns true if there was one to renew. */
  invalidate(): boolean;
}

/**
 * The scopes requested by default: create, read, update, delete and search on every type the transaction
 * writes (a conditional update searches, the answer returns what was written, and duplicates left by a
 * concurrent writer are deleted); read of the stored
 * QuestionnaireResponse, which is what gets evaluated; and StructureDefinition read, without which
 * Medplum refuses every entry that carries `meta.profile` (it must read the profile to validate it).
 */
export const DEFAULT_BACKEND_SCOPE = [
  ...WRITTEN_TYPES.map((t) => `system/${t}.cruds`),
  'system/QuestionnaireResponse.rs',
  'system/StructureDefinition.rs',
].join(' ');

/**
 * The token provider for an upstream configuration: none, a static token, or SMART Backend Services.
 * @param config - Upstream settings.
 * @param fetchImpl - `fetch` (injectable for tests).
 * @param now - Milliseconds since the epoch (for the token cache).
 */
export function tokenProvider(
  config: UpstreamConfig,
  fetchImpl: typeof fetch = fetch,
  now: () => number = Date.now
): TokenProvider {
  if (config.backendServices) {
    return new BackendServicesTokens(config.backendServices, config.timeoutMs ?? 10_000, fetchImpl, now);
  }
  const token = config.token;
  return { token: async () => token, invalidate: () => false };
}

/**
 * SMART Backend Services: a client-credentials grant authenticated with a JWT assertion signed by the
 * client's private key. The access token is cached until shortly before it expires, and concurrent
 * requests share one token request.
 * See: https://hl7.org/fhir/smart-app-launch/backend-services.html
 */
class BackendServicesTokens implements TokenProvider {
  private cached?: { token: string; expiresAt: number };
  private pending?: Promise<string>;
  private key?: Promise<CryptoKey | KeyObject | Uint8Array>;
  private readonly algorithm: string;

  constructor(
    private readonly config: BackendServicesConfig,
    private readonly timeoutMs: number,
    private readonly fetchImpl: typeof fetch,
    private readonly now: () => number
  ) {
    this.algorithm = config.algorithm ?? 'RS384';
  }

  async token(): Promise<string> {
    if (this.cached && this.now() < this.cached.expiresAt) {
      return this.cached.token;
    }
    this.pending ??= this.request().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  invalidate(): boolean {
    const had = this.cached !== undefined;
    this.cached = undefined;
    return had;
  }

  private async request(): Promise<string> {
    const assertion = await this.assertion();
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      scope: this.config.scope ?? DEFAULT_BACKEND_SCOPE,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    });
    let response: Response;
    try {
      response = await this.fetchImpl(this.config.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw isTimeout(err)
        ? httpError(504, 'timeout', "The upstream's authorization server did not answer in time")
        : httpError(502, 'exception', "The upstream's authorization server is unreachable");
    }
    const json = (await response.json().catch(() => undefined)) as
      { access_token?: unknown; expires_in?: unknown } | undefined;
    if (!response.ok || typeof json?.access_token !== 'string') {
      throw httpError(
        502,
        'exception',
        `The upstream's authorization server refused the client credentials (HTTP ${response.status})`
      );
    }
    const lifetime = typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in * 1000 : 0;
    // Renew a little before expiry (a tenth of the lifetime, at most 30 s) so a token never expires in flight.
    this.cached = {
      token: json.access_token,
      expiresAt: this.now() + lifetime - Math.min(30_000, lifetime / 10),
    };
    return json.access_token;
  }

  private async assertion(): Promise<string> {
    this.key ??= importKey(this.config.privateKey, this.algorithm);
    const seconds = Math.floor(this.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({
        alg: this.algorithm,
        typ: 'JWT',
        ...(this.config.keyId ? { kid: this.config.keyId } : {}),
      })
      .setIssuer(this.config.clientId)
      .setSubject(this.config.clientId)
      .setAudience(this.config.tokenUrl)
      .setJti(randomUUID())
      .setIssuedAt(seconds)
      .setExpirationTime(seconds + 300)
      .sign(await this.key);
  }
}

function importKey(text: string, algorithm: string): Promise<CryptoKey | KeyObject | Uint8Array> {
  const trimmed = text.trim();
  return trimmed.startsWith('{')
    ? importJWK(JSON.parse(trimmed) as JWK, algorithm)
    : importPKCS8(trimmed, algorithm);
}

/**
 * True when a fetch failed because its AbortSignal timed out.
 * @param err - What fetch threw.
 */
export function isTimeout(err: unknown): boolean {
  // Not `instanceof Error`: fetch rejects with a DOMException, which may come from another realm.
  const name = typeof err === 'object' && err !== null ? (err as { name?: unknown }).name : undefined;
  return name === 'TimeoutError' || name === 'AbortError';
}
