import type { QuestionnaireResponse } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { evaluate, fhirBaseUrl, newResponseId, storageMode, storageNote } from '../../src/web/api';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const response: QuestionnaireResponse = {
  resourceType: 'QuestionnaireResponse',
  id: 'r1',
  status: 'completed',
};

function answering(status: number, body: string): { fetch: typeof fetch; calls: [string, RequestInit][] } {
  const calls: [string, RequestInit][] = [];
  const fake = (async (url: string, init: RequestInit) => {
    calls.push([url, init]);
    return new Response(body, { status, headers: { 'Content-Type': 'application/fhir+json' } });
  }) as unknown as typeof fetch;
  return { fetch: fake, calls };
}

describe('fhirBaseUrl', () => {
  test('is fhir/ next to the page, wherever the page is mounted', () => {
    expect(fhirBaseUrl('http://localhost:8080/')).toBe('http://localhost:8080/fhir/');
    expect(fhirBaseUrl('http://localhost:8080/app')).toBe('http://localhost:8080/fhir/');
    expect(fhirBaseUrl('https://ehr.example/re/app?x=1#top')).toBe('https://ehr.example/re/fhir/');
  });

  test('follows the page configuration, relative or absolute, and always ends with a slash', () => {
    expect(fhirBaseUrl('http://h/app', '/api/fhir')).toBe('http://h/api/fhir/');
    expect(fhirBaseUrl('http://h/app', 'https://other.example/r4')).toBe('https://other.example/r4/');
    expect(fhirBaseUrl('http://h/app', '  ')).toBe('http://h/fhir/');
  });
});

describe('storageMode and storageNote', () => {
  test('read the mode the server filled in; anything else is unknown', () => {
    expect(storageMode('none')).toBe('none');
    expect(storageMode(' upstream ')).toBe('upstream');
    for (const other of [undefined, null, '', 'Upstream', 'yes']) {
      expect(storageMode(other)).toBe('unknown');
    }
  });

  test('say that nothing is stored only when the server stores nothing', () => {
    expect(storageNote('none')).toContain('nothing is stored here');
    expect(storageNote('upstream')).not.toContain('nothing is stored');
    expect(storageNote('upstream')).toContain('writes the results');
    expect(storageNote('unknown')).not.toContain('nothing is stored');
  });
});

describe('evaluate', () => {
  test('POSTs the response as FHIR JSON to QuestionnaireResponse/$re-evaluate under the base', async () => {
    const { fetch, calls } = answering(200, JSON.stringify({ resourceType: 'Bundle', type: 'transaction' }));
    const result = await evaluate('http://h/fhir/', response, fetch);
    expect(result).toEqual({
      kind: 'bundle',
      status: 200,
      bundle: { resourceType: 'Bundle', type: 'transaction' },
    });
    expect(calls).toHaveLength(1);
    const [url, init] = calls[0]!;
    expect(url).toBe('http://h/fhir/QuestionnaireResponse/$re-evaluate');
    expect(init.method).toBe('POST');
    expect(init.headers).toEqual({
      'Content-Type': 'application/fhir+json',
      Accept: 'application/fhir+json',
    });
    expect(JSON.parse(String(init.body))).toEqual(response);
  });

  test('returns an OperationOutcome with its status', async () => {
    const outcome = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'required' }] };
    for (const status of [400, 404, 422, 500]) {
      const { fetch } = answering(status, JSON.stringify(outcome));
      await expect(evaluate('http://h/fhir/', response, fetch)).resolves.toEqual({
        kind: 'outcome',
        status,
        outcome,
      });
    }
  });

  test('reports a body that is not FHIR JSON, a Bundle with a failure status, and an unreachable server as errors', async () => {
    await expect(
      evaluate('http://h/fhir/', response, answering(502, '<html>Bad gateway</html>').fetch)
    ).resolves.toEqual(expect.objectContaining({ kind: 'error', status: 502 }));
    await expect(
      evaluate('http://h/fhir/', response, answering(500, JSON.stringify({ resourceType: 'Bundle' })).fetch)
    ).resolves.toEqual(expect.objectContaining({ kind: 'error', status: 500 }));
    const down = (async () => {
      throw new TypeError('Failed to fetch');
    }) as unknown as typeof fetch;
    const result = await evaluate('http://h/fhir/', response, down);
    expect(result.kind).toBe('error');
    expect(result.kind === 'error' ? result.message : '').toContain('Failed to fetch');
  });
});

describe('newResponseId', () => {
  test('is a version 4 UUID made of the random bytes, and two calls differ', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        const id = newResponseId((b) => {
          b.set(bytes);
          return b;
        });
        expect(id).toMatch(UUID_V4);
        expect(id.replace(/-/g, '').slice(0, 12)).toBe(Buffer.from(bytes.slice(0, 6)).toString('hex'));
      })
    );
    expect(newResponseId()).toMatch(UUID_V4);
    expect(newResponseId()).not.toBe(newResponseId());
  });
});
