import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { CryptoKey, JWK, JWTPayload } from 'jose';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';

export const ISSUER = 'https://auth.example.org';
export const AUDIENCE = 'https://fhir.example.org/fhir';

/** A signing key pair for tests, with its JWK (carrying `kid`) and SPKI PEM. */
export interface TestKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
  readonly publicPem: string;
}

/**
 * Generates an RS256 key pair.
 * @param kid - Key id.
 */
export async function testKey(kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return {
    kid,
    privateKey,
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' },
    publicPem: await exportSPKI(publicKey),
  };
}

/**
 * Signs a token; claims default to a valid one (issuer, audience, 5 minutes of validity).
 * @param key - The signing key.
 * @param claims - Claims to add or override (`exp`/`nbf` as seconds since the epoch).
 * @param header - Header overrides (e.g. another `kid`).
 */
export function signToken(
  key: TestKey,
  claims: JWTPayload = {},
  header: { kid?: string } = {}
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 300, sub: 'user-1', ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: header.kid ?? key.kid, typ: 'JWT' })
    .sign(key.privateKey);
}

/** A JWKS endpoint on an ephemeral port. */
export async function startJwks(keys: JWK[]): Promise<{ url: string; close(): Promise<void> }> {
  const app = express();
  app.get('/jwks.json', (_req, res) => {
    res.json({ keys });
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** `Authorization` header for a token. */
export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}
