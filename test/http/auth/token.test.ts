import { createSign, KeyObject } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Resource } from '@medplum/fhirtypes';
import express from 'express';
import type { JWTPayload } from 'jose';
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

describe('a JWKS that cannot be had: the request is refused (fail closed), as a 502', () => {
  /** A JWKS endpoint whose answer the test sets; `down` closes it. */
  async function flakyJwks(): Promise<{
    url: string;
    answer: (handler: express.RequestHandler) => void;
    close(): Promise<void>;
  }> {
    let handler: express.RequestHandler = (_req, res) => {
      res.json({ keys: [key.publicJwk] });
    };
    const app = express();
    app.get('/jwks.json', (req, res, next) => handler(req, res, next));
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
      answer: (h) => {
        handler = h;
      },
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  }

  const KEYS_UNAVAILABLE = 'The authorization server keys could not be retrieved';

  test.each([
    ['answers 500', (_req: express.Request, res: express.Response) => void res.status(500).json({})],
    [
      'answers HTML',
      (_req: express.Request, res: express.Response) => void res.type('html').send('<p>down</p>'),
    ],
    [
      'answers a redirect elsewhere',
      (_req: express.Request, res: express.Response) => void res.redirect('http://127.0.0.1:9/'),
    ],
    [
      'answers something that is not a key set',
      (_req: express.Request, res: express.Response) => void res.json({ keys: 'none' }),
    ],
  ])(
    'a JWKS endpoint that %s gives 502 (regression: 500, HTML and redirects gave 401 "malformed token")',
    async (_what, handler) => {
      const jwksServer = await flakyJwks();
      jwksServer.answer(handler);
      const fhir = await startServer({
        auth: { issuer: ISSUER, audience: AUDIENCE, jwksUrl: jwksServer.url },
      });
      try {
        const res = await request(`${fhir.base}/ValueSet/re-onset-type`, {
          headers: bearer(await signToken(key, { scope: READ })),
        });
        expect(expectOutcome(res, 502, 'exception')).toEqual([KEYS_UNAVAILABLE]);
      } finally {
        await fhir.close();
        await jwksServer.close();
      }
    }
  );

  test('regression: the key server failure is logged at warn with its cause (the 502 was logged as a plain rejection)', async () => {
    const jwksServer = await flakyJwks();
    jwksServer.answer((_req, res) => void res.status(503).json({}));
    const unreachable = await flakyJwks();
    await unreachable.close();
    const failing = await startServer({
      auth: { issuer: ISSUER, audience: AUDIENCE, jwksUrl: jwksServer.url },
    });
    const down = await startServer({
      auth: { issuer: ISSUER, audience: AUDIENCE, jwksUrl: unreachable.url },
    });
    try {
      const token = await signToken(key, { scope: READ });
      for (const [fhir, cause] of [
        [
          failing,
          [{ type: 'JOSEError', message: 'Expected 200 OK from the JSON Web Key Set HTTP response' }],
        ],
        [down, [{ type: 'TypeError', message: 'fetch failed' }, { code: 'ECONNREFUSED' }]],
      ] as const) {
        const res = await request(`${fhir.base}/ValueSet/re-onset-type`, {
          headers: { ...bearer(token), 'x-request-id': 'jwks-1' },
        });
        expect(expectOutcome(res, 502, 'exception')).toEqual([KEYS_UNAVAILABLE]);
        expect(fhir.logs.filter((l) => (l.level as number) >= 40)).toEqual([
          expect.objectContaining({
            level: 40,
            reqId: 'jwks-1',
            msg: 'authorization server keys unavailable',
            cause: cause.map((c) => expect.objectContaining(c)),
          }),
        ]);
      }
    } finally {
      await failing.close();
      await down.close();
      await jwksServer.close();
    }
  });

  test('an unreachable JWKS gives 502 for a valid token; once it is back, the same token is accepted', async () => {
    const jwksServer = await flakyJwks();
    const port = Number(new URL(jwksServer.url).port);
    await jwksServer.close();
    const fhir = await startServer({ auth: { issuer: ISSUER, audience: AUDIENCE, jwksUrl: jwksServer.url } });
    try {
      const token = await signToken(key, { scope: READ });
      const down = await request(`${fhir.base}/ValueSet/re-onset-type`, { headers: bearer(token) });
      expect(expectOutcome(down, 502, 'exception')).toEqual([KEYS_UNAVAILABLE]);
      expect(down.text).not.toContain('re-onset-type');
      // No token at all is still a 401: the key server is not needed to refuse it.
      expectOutcome(await request(`${fhir.base}/ValueSet/re-onset-type`), 401, 'login');

      const app = express();
      app.get('/jwks.json', (_req, res) => {
        res.json({ keys: [key.publicJwk] });
      });
      const back = await new Promise<Server>((resolve) => {
        const s = app.listen(port, '127.0.0.1', () => resolve(s));
      });
      try {
        const res = await request(`${fhir.base}/ValueSet/re-onset-type`, { headers: bearer(token) });
        expect(res.status).toBe(200);
      } finally {
        back.closeAllConnections();
        back.close();
      }
    } finally {
      await fhir.close();
    }
  });
});

describe('more forged and malformed tokens', () => {
  const forged = (header: object, payload: object, signature = ''): string =>
    `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(payload))}.${signature}`;
  const claims = (): object => ({ iss: ISSUER, aud: AUDIENCE, exp: now() + 300, scope: 'user/*.cruds' });

  test.each([
    ['alg "None" (capitalised)', () => forged({ alg: 'None', typ: 'JWT' }, claims())],
    ['alg "none" with a signature part', () => forged({ alg: 'none' }, claims(), 'c2lnbmF0dXJl')],
    ['no alg at all', () => forged({ typ: 'JWT', kid: key.kid }, claims(), 'c2lnbmF0dXJl')],
    ['a JWE (five parts)', () => `${forged({ alg: 'RSA-OAEP', enc: 'A256GCM' }, {})}.a.b`],
    [
      'a payload that is not JSON',
      () => `${base64url.encode('{"alg":"RS256"}')}.${base64url.encode('not json')}.c2ln`,
    ],
  ])('%s is 401, and grants nothing', async (_what, make) => {
    const res = await read(bearer(make()));
    expectOutcome(res, 401, 'security');
    expect(res.text).not.toContain('re-onset-type');
  });

  test('HS256 keyed with the public JWK text (another algorithm confusion) is 401', async () => {
    const token = await new SignJWT(claims() as JWTPayload)
      .setProtectedHeader({ alg: 'HS256', kid: key.kid })
      .sign(new TextEncoder().encode(JSON.stringify(key.publicJwk)));
    expect(expectOutcome(await read(bearer(token)), 401, 'security')[0]).toBe(
      'The token is signed with an algorithm this server does not accept'
    );
  });

  test('a correctly signed token with an unknown critical header parameter is 401', async () => {
    // jose will not sign such a header, so it is signed here.
    const input = `${base64url.encode(JSON.stringify({ alg: 'RS256', kid: key.kid, crit: ['x-unknown'], 'x-unknown': 1 }))}.${base64url.encode(JSON.stringify(claims()))}`;
    const signature = createSign('RSA-SHA256').update(input).sign(KeyObject.from(key.privateKey));
    const res = await read(bearer(`${input}.${base64url.encode(signature)}`));
    expectOutcome(res, 401, 'security');
  });

  test('exp beyond the 30 s tolerance is 401; within it, accepted', async () => {
    expect((await read(bearer(await signToken(key, { scope: READ, exp: now() - 10 })))).status).toBe(200);
    expectOutcome(
      await read(bearer(await signToken(key, { scope: READ, exp: now() - 120 }))),
      401,
      'expired'
    );
  });

  test('an exp that is not a number is 401', async () => {
    const token = await signToken(key, { scope: READ, exp: 'tomorrow' as unknown as number });
    expect(expectOutcome(await read(bearer(token)), 401, 'security')[0]).toContain('exp');
  });

  test('a scope claim that is not text grants nothing (403)', async () => {
    for (const scope of [42, { 'user/*.cruds': true }, ['user/ValueSet.r', 7]] as unknown[]) {
      const res = await read(bearer(await signToken(key, { scope } as JWTPayload)));
      expect({ scope, status: res.status }).toEqual({ scope, status: Array.isArray(scope) ? 200 : 403 });
    }
  });
});
