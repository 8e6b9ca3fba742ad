import type { QuestionnaireResponse } from '@medplum/fhirtypes';
import zlib, { gzipSync } from 'node:zlib';
import { issue, ReFhirError } from '../../src/core/outcomes';
import { appConfigFromEnv } from '../../src/http/config';
import { framesOf, statusOfKind, toHttpError } from '../../src/http/errors';
import { AUDIENCE, bearer, ISSUER, signToken, testKey } from '../helpers/auth';
import { testEngine } from '../helpers/engine';
import type { TestServer } from '../helpers/http';
import { expectOutcome, post, request, startServer } from '../helpers/http';
import { scenarios } from '../helpers/scenarios';

const QR = scenarios().find((s) => s.name === 'no-findings')!.response as QuestionnaireResponse;
const GENERIC = 'Internal server error; the server log has the details under this request id';

describe('500: our bugs never leak', () => {
  /** A server whose validator throws `err` on every call. */
  function throwing(err: Error): Promise<TestServer> {
    const engine = testEngine();
    return startServer({
      engine: {
        ...engine,
        validator: {
          ...engine.validator,
          validate: () => {
            throw err;
          },
          begin: () => {
            throw err;
          },
        },
      },
    });
  }

  test('an unexpected exception is a generic 500; its type and stack frames go to the log only', async () => {
    const server = await throwing(new TypeError('secret detail from /srv/internal/path.ts'));
    try {
      const res = await post(`${server.base}/QuestionnaireResponse/$re-evaluate`, QR, {
        'x-request-id': 'bug-1',
      });
      expect(expectOutcome(res, 500, 'exception')).toEqual([GENERIC]);
      expect(res.text).not.toMatch(/secret|internal\/path|at /);
      const logged = server.logs.find((l) => l.msg === 'request failed') as { err: { stack: string } };
      expect(logged).toMatchObject({ level: 50, reqId: 'bug-1', err: { type: 'TypeError' } });
      expect(logged.err.stack).toMatch(/^\s+at .*errors\.test\.ts/);
    } finally {
      await server.close();
    }
  });

  test('regression: the log has no error message, which may quote patient data (it was the first line of the stack)', async () => {
    // Several lines, one shaped like a stack frame: only the frames V8 added may be logged.
    const server = await throwing(
      new Error('answer "PHI-MARKER-1 Jane Doe" is not a date\n    at PHI-MARKER-2 (line two)')
    );
    try {
      const res = await post(`${server.base}/QuestionnaireResponse/$re-evaluate`, QR);
      expectOutcome(res, 500, 'exception');
      const logged = server.logs.find((l) => l.msg === 'request failed') as { err: { stack: string } };
      expect(logged.err.stack).toContain('at ');
      expect(JSON.stringify(server.logs)).not.toContain('PHI-MARKER');
    } finally {
      await server.close();
    }
  });

  test('an engine failure of kind internal is a generic 500 too (its issues name our internals)', () => {
    const mapped = toHttpError(
      new ReFhirError('internal', [issue('error', 'exception', 'Generated Condition is invalid')])
    );
    expect({ status: mapped.status, text: mapped.outcome.issue?.[0]?.details?.text }).toEqual({
      status: 500,
      text: GENERIC,
    });
  });

  test('the stack loses its header even when the message changed after V8 formatted it', () => {
    const err = new Error('PHI-MARKER-1\nPHI-MARKER-2');
    expect(err.stack).toContain('PHI-MARKER-2');
    err.message = 'changed';
    expect(framesOf(err)).toMatch(/^\s+at /);
    expect(framesOf(err)).not.toContain('PHI-MARKER');
  });

  test("the router's URIError (marked 400) is the URL's fault; any other URIError is ours", () => {
    const routers = Object.assign(new URIError("Failed to decode param '%'"), { status: 400 });
    expect([toHttpError(routers).status, toHttpError(new URIError('URI malformed')).status]).toEqual([
      400, 500,
    ]);
  });

  test('failure kinds map to 400, 422, 404 and 500', () => {
    expect(
      ['structural', 'conformance', 'not-found', 'internal'].map((k) => statusOfKind(k as 'internal'))
    ).toEqual([400, 422, 404, 500]);
    expect(toHttpError('a string').status).toBe(500);
  });
});

describe('bodies that cannot be decompressed', () => {
  test.each(['gzip', 'deflate', 'br'])(
    'regression: Content-Encoding %s on a body that is not compressed is 400, not 500',
    async (encoding) => {
      const server = await startServer();
      try {
        const res = await post(`${server.base}/QuestionnaireResponse/$re-evaluate`, QR, {
          'content-encoding': encoding,
        });
        expect(expectOutcome(res, 400, 'invalid')).toEqual([
          'The body could not be read (check its Content-Encoding)',
        ]);
        expect(server.logs.filter((l) => l.msg === 'request failed')).toEqual([]);
      } finally {
        await server.close();
      }
    }
  );

  test("zstd is read where Node's zlib has it (22.15 and later); elsewhere it is 415 like any unknown encoding", async () => {
    const compress = (zlib as { zstdCompressSync?: (data: Buffer) => Buffer }).zstdCompressSync;
    const server = await startServer();
    try {
      const json = Buffer.from(JSON.stringify(QR));
      const res = await request(`${server.base}/QuestionnaireResponse/$re-evaluate`, {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json', 'content-encoding': 'zstd' },
        body: compress ? compress(json) : json,
      });
      if (compress) {
        expect(res.status).toBe(200);
      } else {
        expect(expectOutcome(res, 415, 'not-supported')).toEqual([
          'Unsupported body encoding or charset; send UTF-8 JSON',
        ]);
      }
    } finally {
      await server.close();
    }
  });

  test('a body that does decompress is read', async () => {
    const server = await startServer();
    try {
      const res = await fetch(`${server.base}/QuestionnaireResponse/$re-evaluate`, {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json', 'content-encoding': 'gzip' },
        body: gzipSync(JSON.stringify(QR)),
      });
      expect(res.status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

describe('URLs that do not percent-decode', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());

  test.each([
    '/fhir/Questionnaire/%E0%A4%A',
    '/fhir/Questionnaire/%',
    '/fhir/ValueSet/%ZZ/$expand',
    '/fhir/%',
    '/%E0%A4',
  ])('regression: GET %s is 400 invalid (was 500 from the router, or 404)', async (path) => {
    const before = server.logs.length;
    const res = await request(`${server.origin}${path}`);
    expect(expectOutcome(res, 400, 'invalid')).toEqual(['The request URL is not validly percent-encoded']);
    const logged = server.logs.slice(before);
    expect(logged.filter((l) => l.msg === 'request failed')).toEqual([]);
    expect(logged.find((l) => l.msg === 'request rejected')).toMatchObject({ level: 30, status: 400 });
  });

  test('a path that decodes is routed as before', async () => {
    expect((await request(`${server.base}/ValueSet/re-onset-typ%65`)).status).toBe(200);
  });
});

describe('every response outside the operations', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());

  test('an unknown path outside the FHIR base is a JSON 404 OperationOutcome', async () => {
    expectOutcome(await request(`${server.origin}/nothing/here`), 404, 'not-found');
  });

  test('security headers are set and x-powered-by is not; CORS is off by default', async () => {
    const res = await fetch(`${server.base}/metadata`, { headers: { origin: 'https://evil.example.org' } });
    expect(res.headers.get('x-powered-by')).toBeNull();
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(res.headers.get('strict-transport-security')).toContain('max-age=');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  test('the placeholder page is served at /', async () => {
    const res = await fetch(`${server.origin}/`);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await res.text()).toContain('<a href="/fhir/metadata">');
  });
});

describe('CORS when configured', () => {
  test('allows the configured origin only, including preflight, and exposes the FHIR headers', async () => {
    const server = await startServer({ corsOrigins: ['https://app.example.org'] });
    try {
      const ok = await fetch(`${server.base}/ValueSet/re-onset-type`, {
        headers: { origin: 'https://app.example.org' },
      });
      expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example.org');
      expect(ok.headers.get('access-control-expose-headers')).toContain('ETag');
      const other = await fetch(`${server.base}/metadata`, {
        headers: { origin: 'https://evil.example.org' },
      });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      const preflight = await fetch(`${server.base}/QuestionnaireResponse/$re-evaluate`, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://app.example.org',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,authorization',
        },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    } finally {
      await server.close();
    }
  });
});

describe('FHIR base', () => {
  test('is configurable', async () => {
    const server = await startServer({ fhirBase: '/api/r4/' });
    try {
      expect(server.base.endsWith('/api/r4/')).toBe(true);
      const res = await request(`${server.origin}/api/r4/metadata`);
      expect(res.status).toBe(200);
      expect(res.body.resourceType).toBe('CapabilityStatement');
      expectOutcome(await request(`${server.origin}/fhir/metadata`), 404, 'not-found');
    } finally {
      await server.close();
    }
  });
});

describe('security headers on every kind of answer', () => {
  /** The headers helmet sets that this deployment relies on, and x-powered-by absent. */
  function securityHeaders(headers: Headers): Record<string, string | null> {
    return {
      'x-powered-by': headers.get('x-powered-by'),
      'x-content-type-options': headers.get('x-content-type-options'),
      'x-frame-options': headers.get('x-frame-options'),
      'strict-transport-security': headers.get('strict-transport-security'),
      'referrer-policy': headers.get('referrer-policy'),
      'cross-origin-resource-policy': headers.get('cross-origin-resource-policy'),
      'frame-ancestors':
        /frame-ancestors '[a-z]+'/.exec(headers.get('content-security-policy') ?? '')?.[0] ?? null,
      'object-src': /object-src 'none'/.exec(headers.get('content-security-policy') ?? '')?.[0] ?? null,
      'access-control-allow-origin': headers.get('access-control-allow-origin'),
    };
  }
  const EXPECTED = {
    'x-powered-by': null,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'SAMEORIGIN',
    'strict-transport-security': 'max-age=31536000; includeSubDomains',
    'referrer-policy': 'no-referrer',
    'cross-origin-resource-policy': 'same-origin',
    'frame-ancestors': "frame-ancestors 'self'",
    'object-src': "object-src 'none'",
    'access-control-allow-origin': null,
  };

  test('successes, client errors, auth failures and our own 500s all carry them; CORS stays off', async () => {
    const engine = testEngine();
    const broken = await startServer({
      engine: {
        ...engine,
        validator: {
          ...engine.validator,
          validate: () => {
            throw new Error('bug');
          },
          begin: () => {
            throw new Error('bug');
          },
        },
      },
    });
    const plain = await startServer({ bodyLimit: 2000 });
    const key = await testKey('k');
    const guarded = await startServer({
      auth: { issuer: ISSUER, audience: AUDIENCE, publicKey: key.publicPem },
    });
    const origin = { origin: 'https://evil.example.org' };
    try {
      const answers: [string, Response][] = [
        ['metadata', await fetch(`${plain.base}/metadata`, { headers: origin })],
        ['read', await fetch(`${plain.base}/ValueSet/re-onset-type`, { headers: origin })],
        ['404', await fetch(`${plain.origin}/nothing`, { headers: origin })],
        ['405', await fetch(`${plain.base}/QuestionnaireResponse/$extract`, { headers: origin })],
        [
          '406',
          await fetch(`${plain.base}/metadata`, { headers: { ...origin, accept: 'application/fhir+xml' } }),
        ],
        [
          '413',
          await fetch(`${plain.base}/QuestionnaireResponse/$extract`, {
            method: 'POST',
            headers: { ...origin, 'content-type': 'application/fhir+json' },
            body: JSON.stringify(QR),
          }),
        ],
        [
          '415',
          await fetch(`${plain.base}/QuestionnaireResponse/$extract`, {
            method: 'POST',
            headers: { ...origin, 'content-type': 'text/plain' },
            body: 'x',
          }),
        ],
        ['401', await fetch(`${guarded.base}/ValueSet/re-onset-type`, { headers: origin })],
        [
          '403',
          await fetch(`${guarded.base}/ValueSet/re-onset-type`, {
            headers: { ...origin, ...bearer(await signToken(key, { scope: 'user/CodeSystem.r' })) },
          }),
        ],
        [
          '500',
          await fetch(`${broken.base}/QuestionnaireResponse/$re-evaluate`, {
            method: 'POST',
            headers: { ...origin, 'content-type': 'application/fhir+json' },
            body: JSON.stringify(QR),
          }),
        ],
        ['healthz', await fetch(`${plain.origin}/healthz`, { headers: origin })],
        ['page', await fetch(`${plain.origin}/`, { headers: origin })],
        [
          'preflight',
          await fetch(`${plain.base}/QuestionnaireResponse/$re-evaluate`, {
            method: 'OPTIONS',
            headers: { ...origin, 'access-control-request-method': 'POST' },
          }),
        ],
      ];
      for (const [what, res] of answers) {
        await res.arrayBuffer();
        expect({ what, headers: securityHeaders(res.headers) }).toEqual({ what, headers: EXPECTED });
      }
      expect(answers.map(([what, res]) => `${what} ${res.status}`)).toEqual([
        'metadata 200',
        'read 200',
        '404 404',
        '405 405',
        '406 406',
        '413 413',
        '415 415',
        '401 401',
        '403 403',
        '500 500',
        'healthz 200',
        'page 200',
        'preflight 405',
      ]);
    } finally {
      await broken.close();
      await plain.close();
      await guarded.close();
    }
  });
});

describe('CORS is configuration', () => {
  test('from CORS_ORIGINS: listed origins only; unset means off', async () => {
    const configured = await startServer(
      appConfigFromEnv({ CORS_ORIGINS: 'https://app.example.org, https://other.example.org' })
    );
    const off = await startServer(appConfigFromEnv({}));
    try {
      for (const allowed of ['https://app.example.org', 'https://other.example.org']) {
        const res = await fetch(`${configured.base}/metadata`, { headers: { origin: allowed } });
        expect(res.headers.get('access-control-allow-origin')).toBe(allowed);
        expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
      }
      const refused = await fetch(`${configured.base}/metadata`, {
        headers: { origin: 'https://app.example.org.evil.example' },
      });
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
      const unset = await fetch(`${off.base}/metadata`, { headers: { origin: 'https://app.example.org' } });
      expect(unset.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await configured.close();
      await off.close();
    }
  });

  test("'*' allows any origin, without credentials", async () => {
    const any = await startServer(appConfigFromEnv({ CORS_ORIGINS: '*' }));
    try {
      const res = await fetch(`${any.base}/QuestionnaireResponse/$re-evaluate`, {
        method: 'OPTIONS',
        headers: { origin: 'https://anyone.example.org', 'access-control-request-method': 'POST' },
      });
      expect({
        status: res.status,
        origin: res.headers.get('access-control-allow-origin'),
        credentials: res.headers.get('access-control-allow-credentials'),
      }).toEqual({ status: 204, origin: '*', credentials: null });
    } finally {
      await any.close();
    }
  });
});
