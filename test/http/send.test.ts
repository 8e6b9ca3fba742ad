import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Resource } from '@medplum/fhirtypes';
import express from 'express';
import fc from 'fast-check';
import { transferablesOf } from '../../src/http/pool/tasks';
import { fhirJsonBytes, fhirJsonText, sendFhirJson, sendResource } from '../../src/http/send';
import { example } from '../helpers/bad-input';

/**
 * Resources with any JSON inside, strings over the whole of UTF-16 (lone surrogates included, which
 * UTF-8 cannot carry and both paths must replace alike).
 */
const resources = fc
  .record({
    resourceType: fc.constantFrom('Bundle', 'OperationOutcome', 'Parameters'),
    extra: fc.jsonValue({ maxDepth: 4 }),
    text: fc.string({ unit: 'binary', maxLength: 40 }),
    texts: fc.array(fc.string({ unit: 'grapheme', maxLength: 10 }), { maxLength: 5 }),
  })
  .map((r) => r as unknown as Resource);

describe('fhirJsonBytes: the bytes a worker sends are the bytes res.send(text) would send', () => {
  test('for any resource, compact and pretty, they are the UTF-8 of fhirJsonText, in a buffer of their own', () => {
    fc.assert(
      fc.property(resources, fc.boolean(), (resource, pretty) => {
        const bytes = fhirJsonBytes(resource, pretty);
        expect(Buffer.from(bytes)).toEqual(Buffer.from(fhirJsonText(resource, pretty), 'utf8'));
        // Transferable whole: nothing else shares the buffer.
        expect(transferablesOf({ json: bytes })).toEqual([bytes.buffer]);
      }),
      { numRuns: 300 }
    );
  });

  test('fhirJsonText is JSON.stringify, indented by 2 only when pretty', () => {
    const response = example('re-example-anejaculation');
    expect(fhirJsonText(response, false)).toBe(JSON.stringify(response));
    expect(fhirJsonText(response, true)).toBe(JSON.stringify(response, null, 2));
  });

  test('a view into a larger buffer is not offered for transfer (it would take the rest with it)', () => {
    const slab = new Uint8Array(64);
    expect(transferablesOf({ json: slab.subarray(8, 16) })).toEqual([]);
    expect(transferablesOf({ json: 'text' })).toEqual([]);
    expect(transferablesOf(undefined)).toEqual([]);
  });
});

describe('sendFhirJson answers as sendResource does', () => {
  let server: Server;
  let origin: string;
  let current: { resource: Resource; pretty: boolean } = {
    resource: example('re-example-turp-tamsulosin'),
    pretty: false,
  };

  beforeAll(async () => {
    const app = express();
    app.set('etag', false);
    app.get('/text', (req, res) => {
      req.pretty = current.pretty;
      sendResource(req, res, 201, current.resource);
    });
    app.get('/bytes', (_req, res) => sendFhirJson(res, 201, fhirJsonBytes(current.resource, current.pretty)));
    await new Promise<void>((resolve) => {
      server = app.listen(0, '127.0.0.1', () => resolve());
    });
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function answer(
    path: string
  ): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
    const res = await fetch(`${origin}${path}`);
    const headers: Record<string, string> = {};
    res.headers.forEach((value, name) => {
      if (name !== 'date') {
        headers[name] = value;
      }
    });
    return { status: res.status, headers, body: Buffer.from(await res.arrayBuffer()) };
  }

  test('same status, headers and bytes, over a real server, for any resource', async () => {
    await fc.assert(
      fc.asyncProperty(resources, fc.boolean(), async (resource, pretty) => {
        current = { resource, pretty };
        const text = await answer('/text');
        const bytes = await answer('/bytes');
        expect(bytes).toEqual(text);
        expect(text.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
      }),
      { numRuns: 40 }
    );
  }, 60_000);
});
