import fc from 'fast-check';
import type { QuestionnaireResponse } from '@medplum/fhirtypes';
import { parseMediaTypes } from '../../src/http/negotiation';
import type { TestServer } from '../helpers/http';
import { expectOutcome, post, request, startServer } from '../helpers/http';
import { scenarios } from '../helpers/scenarios';

const QR = scenarios().find((s) => s.name === 'no-findings')!.response as QuestionnaireResponse;

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const read = (headers: Record<string, string>, query = ''): ReturnType<typeof request> =>
  request(`${server.base}/ValueSet/re-onset-type${query}`, { headers });

describe('Accept and _format', () => {
  test.each([
    ['application/fhir+json'],
    ['application/json'],
    ['application/fhir+json; fhirVersion=4.0'],
    ['application/fhir+json; fhirVersion=4.0.1'],
    ['*/*'],
    ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'],
    ['application/*'],
  ])('Accept: %s is served as application/fhir+json', async (accept) => {
    const res = await read({ accept });
    expect({ status: res.status, type: res.headers.get('content-type') }).toEqual({
      status: 200,
      type: 'application/fhir+json; charset=utf-8',
    });
  });

  test('XML is 406 with an OperationOutcome that says so', async () => {
    for (const accept of ['application/fhir+xml', 'application/xml', 'text/xml']) {
      expect(expectOutcome(await read({ accept }), 406, 'not-supported')[0]).toBe(
        'XML is not supported; this server produces application/fhir+json only'
      );
    }
    expect(expectOutcome(await read({}, '?_format=xml'), 406, 'not-supported')[0]).toContain(
      'XML is not supported'
    );
  });

  test('another FHIR version in Accept is 406', async () => {
    const res = await read({ accept: 'application/fhir+json; fhirVersion=3.0' });
    expect(expectOutcome(res, 406, 'not-supported')[0]).toBe(
      'FHIR version 3.0 is not served; this server speaks FHIR R4 (fhirVersion=4.0)'
    );
  });

  test('other media types (text/html alone, turtle) are 406', async () => {
    expectOutcome(await read({ accept: 'text/html' }), 406, 'not-supported');
    expectOutcome(await read({}, '?_format=ttl'), 406, 'not-supported');
  });

  test('_format=json overrides an XML Accept', async () => {
    expect((await read({ accept: 'application/fhir+xml' }, '?_format=json')).status).toBe(200);
    expect((await read({}, '?_format=application/fhir%2Bjson')).status).toBe(200);
  });
});

describe('Content-Type of bodies', () => {
  const extract = (): string => `${server.base}/QuestionnaireResponse/$extract`;

  test('XML is 415 with an OperationOutcome that says so', async () => {
    const res = await post(extract(), '<QuestionnaireResponse/>', { 'content-type': 'application/fhir+xml' });
    expect(expectOutcome(res, 415, 'not-supported')[0]).toBe(
      'XML is not supported; send application/fhir+json'
    );
  });

  test('text/plain and a body without Content-Type are 415', async () => {
    expectOutcome(
      await post(extract(), JSON.stringify(QR), { 'content-type': 'text/plain' }),
      415,
      'not-supported'
    );
    const res = await fetch(extract(), { method: 'POST', body: new Blob([JSON.stringify(QR)]) });
    expect(res.status).toBe(415);
  });

  test('fhirVersion=4.0 is accepted; another version is 415', async () => {
    expect(
      (await post(extract(), QR, { 'content-type': 'application/fhir+json; fhirVersion=4.0' })).status
    ).toBe(200);
    const res = await post(extract(), QR, { 'content-type': 'application/fhir+json; fhirVersion=5.0' });
    expect(expectOutcome(res, 415, 'not-supported')[0]).toBe(
      'FHIR version 5.0 is not accepted; send FHIR R4 (fhirVersion=4.0)'
    );
  });

  test('unparseable JSON, and JSON that is not an object, are 400 without echoing the body', async () => {
    const broken = await post(extract(), '{"resourceType": "QuestionnaireResponse", "secret-answer');
    expect(expectOutcome(broken, 400, 'invalid')).toEqual(['The body is not valid JSON']);
    expectOutcome(await post(extract(), 'null'), 400, 'invalid');
    expectOutcome(await post(extract(), '42'), 400, 'invalid');
    expectOutcome(await post(extract(), '[]'), 400, 'structure');
  });

  test('regression: bytes that are not UTF-8 are 400, not silently replaced by U+FFFD', async () => {
    // Before: a Latin-1 author name was decoded to U+FFFD and the response evaluated (200).
    const qr = { ...QR, author: { reference: 'Practitioner/p1', display: 'Dr @@' } };
    const bytes = Buffer.from(JSON.stringify(qr));
    bytes.write('\xe9\xff', bytes.indexOf('@@'), 'latin1');
    const res = await post(extract(), bytes);
    expect(expectOutcome(res, 400, 'invalid')).toEqual(['The body is not valid UTF-8']);
    expect((await post(extract(), Buffer.from(JSON.stringify(qr)))).status).toBe(200);
  });

  test('regression: a body in UTF-16 is 415; FHIR bodies are UTF-8', async () => {
    const res = await post(extract(), Buffer.from(JSON.stringify(QR), 'utf16le'), {
      'content-type': 'application/fhir+json; charset=utf-16le',
    });
    expect(expectOutcome(res, 415, 'not-supported')[0]).toBe(
      'Unsupported body encoding or charset; send UTF-8 JSON'
    );
    const utf8 = await post(extract(), QR, { 'content-type': 'application/fhir+json; charset=UTF-8' });
    expect(utf8.status).toBe(200);
  });

  test('a body over the limit is 413', async () => {
    const huge = JSON.stringify({
      ...QR,
      text: { status: 'generated', div: `<div>${'x'.repeat(1_100_000)}</div>` },
    });
    const res = await post(extract(), huge);
    expect(expectOutcome(res, 413, 'too-long')[0]).toBe('The body is larger than this server accepts');
  });

  test('the limit is configurable', async () => {
    const small = await startServer({ bodyLimit: 1000 });
    try {
      expectOutcome(await post(`${small.base}/QuestionnaireResponse/$extract`, QR), 413, 'too-long');
    } finally {
      await small.close();
    }
  });
});

describe('parseMediaTypes', () => {
  test('reads types, parameters and quality', () => {
    expect(parseMediaTypes('application/fhir+json; fhirVersion="4.0"; q=0.5, */*')).toEqual([
      { type: 'application', subtype: 'fhir+json', params: { fhirversion: '4.0', q: '0.5' }, q: 0.5 },
      { type: '*', subtype: '*', params: {}, q: 1 },
    ]);
  });

  test('never throws on arbitrary header text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (header) => {
        for (const m of parseMediaTypes(header)) {
          expect(typeof m.type).toBe('string');
          expect(Number.isFinite(m.q)).toBe(true);
        }
      })
    );
  });
});
