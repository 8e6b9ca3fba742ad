import type { Resource } from '@medplum/fhirtypes';
import { base64url, exportJWK, exportPKCS8, SignJWT, UnsecuredJWT } from 'jose';
import { createTokenVerifier } from '../../../src/http/auth/token';
import type { TestKey } from '../../helpers/auth';
import { AUDIENCE, bearer, ISSUER, signToken, startJwks, testKey } from '../../helpers/auth';
import type { TestServer } from '../../helpers/http';
import { expectOutcome, request, startServer } from '../../helpers/http';

const READ = 'user/ValueSet.rs';

let key: TestKey;
let other: TestKey;
let jwks: { url: string; close(): Promise<void> };
let server: TestServer;

beforeAll(async () => {
  key = await testKey('key-1');
  other = await testKey('key-2');
  jwks = await startJwks([key.publicJwk]);
  server = await startServer({ auth: { issuer: ISSUER, audience: AUDIENCE, jwksUrl: jwks.url } });
});
afterAll(async () => {
  await server.close();
  await jwks.close();
});

const now = (): number => Math.floor(Date.now() / 1000);
const read = (headers: Record<string, string> = {}): ReturnType<typeof request<Resource>> =>
  request(`${server.base}/ValueSet/re-onset-type`, { headers });

describe('bearer tokens verified against the JWKS', () => {
  test('a valid token with the read scope reads', async () => {
    const res = await read(bearer(await signToken(key, { scope: READ })));
    expect({ status: res.status, id: res.body.id }).toEqual({ status: 200, id: 're-onset-type' });
  });

  test('no token is 401 with a Bearer challenge', async () => {
    const res = await read();
    const texts = expectOutcome(res, 401, 'login');
    expect(texts[0]).toBe('A bearer token is required');
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="re-fhir"');
  });

  test('a non-Bearer Authorization header is 401', async () => {
    expectOutcome(await read({ authorization: 'Basic dXNlcjpwYXNz' }), 401, 'login');
  });

  test('an expired token is 401 (expired)', async () => {
    const res = await read(
      bearer(await signToken(key, { scope: READ, iat: now() - 7200, exp: now() - 3600 }))
    );
    const texts = expectOutcome(res, 401, 'expired');
    expect(texts[0]).toBe('The token has expired');
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  test('a token that is not yet valid is 401', async () => {
    const res = await read(bearer(await signToken(key, { scope: READ, nbf: now() + 3600 })));
    expect(expectOutcome(res, 401, 'security')[0]).toBe('The token is not yet valid');
  });

  test('a token for another audience is 401', async () => {
    const res = await read(bearer(await signToken(key, { scope: READ, aud: 'https://other.example.org' })));
    expect(expectOutcome(res, 401, 'security')[0]).toBe('The token is for another audience');
  });

  test('a token from another issuer is 401', async () => {
    const res = await read(bearer(await signToken(key, { scope: READ, iss: 'https://evil.example.org' })));
    expect(expectOutcome(res, 401, 'security')[0]).toBe('The token was issued by an unexpected issuer');
  });

  test('a token without exp is 401', async () => {
    const token = await new SignJWT({ scope: READ, iss: ISSUER, aud: AUDIENCE })
      .setProtectedHeader({ alg: 'RS256', kid: key.kid })
      .sign(key.privateKey);
    expect(expectOutcome(await read(bearer(token)), 401, 'security')[0]).toContain('exp');
  });

  test('alg: none is 401', async () => {
    const token = new UnsecuredJWT({ scope: READ })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('5m')
      .encode();
    expect(token.endsWith('.')).toBe(true);
    expectOutcome(await read(bearer(token)), 401, 'security');
  });

  test('HS256 signed with the RSA public key as the secret (algorithm confusion) is 401', async () => {
    const token = await new SignJWT({ scope: READ })
      .setProtectedHeader({ alg: 'HS256', kid: key.kid })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(key.publicPem));
    const res = await read(bearer(token));
    expect(expectOutcome(res, 401, 'security')[0]).toBe(
      'The token is signed with an algorithm this server does not accept'
    );
  });

  test('an unknown kid is 401', async () => {
    const res = await read(bearer(await signToken(other, { scope: READ })));
    expect(expectOutcome(res, 401, 'security')[0]).toBe("No known key matches the token's key id");
  });

  test('another key under a known kid is 401 (signature)', async () => {
    const res = await read(bearer(await signToken(other, { scope: READ }, { kid: key.kid })));
    expect(expectOutcome(res, 401, 'security')[0]).toBe("The token's signature is invalid");
  });

  test('a tampered payload is 401', async () => {
    const [h, , s] = (await signToken(key, { scope: READ })).split('.');
    const forged = base64url.encode(
      JSON.stringify({ iss: ISSUER, aud: AUDIENCE, exp: now() + 300, scope: 'user/*.*' })
    );
    expectOutcome(await read(bearer(`${h}.${forged}.${s}`)), 401, 'security');
  });

  test('a token without the read scope is 403 insufficient_scope', async () => {
    const res = await read(bearer(await signToken(key, { scope: 'user/CodeSystem.rs' })));
    const texts = expectOutcome(res, 403, 'forbidden');
    expect(texts[0]).toContain('ValueSet.r');
    expect(res.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
  });

  test('metadata stays public; the SMART configuration is served', async () => {
    expect((await request(`${server.base}/metadata`)).status).toBe(200);
    const smart = await request<Record<string, unknown>>(`${server.base}/.well-known/smart-configuration`);
    expect(smart.status).toBe(200);
    expect(smart.body).toMatchObject({ issuer: ISSUER, jwks_uri: jwks.url });
    expect(smart.body.capabilities).toEqual(expect.arrayContaining(['permission-v1', 'permission-v2']));
  });
});

describe('a static public key instead of a JWKS', () => {
  test('PEM: a valid token reads, a token signed by another key is 401', async () => {
    const pemServer = await startServer({
      auth: { issuer: ISSUER, audience: AUDIENCE, publicKey: key.publicPem },
    });
    try {
      const ok = await request(`${pemServer.base}/ValueSet/re-onset-type`, {
        headers: bearer(await signToken(key, { scope: READ })),
      });
      expect(ok.status).toBe(200);
      const bad = await request(`${pemServer.base}/ValueSet/re-onset-type`, {
        headers: bearer(await signToken(other, { scope: READ })),
      });
      expectOutcome(bad, 401, 'security');
    } finally {
      await pemServer.close();
    }
  });

  test('JWK with a kid: a token naming another kid is 401', async () => {
    const jwkServer = await startServer({
      auth: { issuer: ISSUER, audience: AUDIENCE, publicKey: JSON.stringify(key.publicJwk) },
    });
    try {
      const good = await request(`${jwkServer.base}/ValueSet/re-onset-type`, {
        headers: bearer(await signToken(key, { scope: READ })),
      });
      expect(good.status).toBe(200);
      const res = await request(`${jwkServer.base}/ValueSet/re-onset-type`, {
        headers: bearer(await signToken(key, { scope: READ }, { kid: 'nope' })),
      });
      expect(expectOutcome(res, 401, 'security')[0]).toBe("No known key matches the token's key id");
    } finally {
      await jwkServer.close();
    }
  });
});

describe('createTokenVerifier configuration', () => {
  test('refuses symmetric and unsigned algorithms', () => {
    for (const algorithms of [['HS256'], ['RS256', 'none']]) {
      expect(() =>
        createTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, publicKey: key.publicPem, algorithms })
      ).toThrow(/only asymmetric/);
    }
  });

  test('refuses a private key (PEM or JWK) as the verification key', async () => {
    const pem = await exportPKCS8(key.privateKey);
    const jwk = JSON.stringify(await exportJWK(key.privateKey));
    for (const publicKey of [pem, jwk]) {
      expect(() => createTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, publicKey })).toThrow(
        'The auth key must be a public key'
      );
    }
  });
});
