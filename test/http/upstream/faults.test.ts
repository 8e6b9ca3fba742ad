import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Bundle, QuestionnaireResponse } from '@medplum/fhirtypes';
import type { UpstreamConfig } from '../../../src/http/config';
import type { TestServer } from '../../helpers/http';
import { expectOutcome, post, startServer } from '../../helpers/http';
import type { Fault, MedplumTestFhirServer } from '../../helpers/medplum-test-fhir-server';
import { startMedplumTestFhirServer } from '../../helpers/medplum-test-fhir-server';
import { scenarios } from '../../helpers/scenarios';

/** The responses the tests submit, stored upstream first (the server evaluates the stored copy). */
const STORED = scenarios().map((s) => s.response);

/**
 * Upstream faults and what they leave in the store. The fixture is Medplum's router over its
 * in-memory repository (entry by entry, see the fixture); a fault strikes either before the
 * transaction is processed or, with `afterApply`, after it was written. After each fault the store
 * holds either nothing or the complete set of the transaction, never a part of it; and a later
 * submission of the same response succeeds and leaves exactly one set. (client.test.ts covers the
 * retry policy and the pass-through of upstream outcomes; this file covers the store.)
 */

const TURP = scenarios().find((s) => s.name === 'example-turp-tamsulosin')!.response as QuestionnaireResponse;
const noSleep = async (): Promise<void> => undefined;

function withUpstream(url: string, upstream: Partial<UpstreamConfig> = {}): Promise<TestServer> {
  return startServer(
    // A generous timeout: only the cases about timeouts set a short one, against an upstream far slower.
    { upstream: { url, retries: 2, timeoutMs: 60_000, ...upstream } },
    { upstream: { sleep: noSleep } }
  );
}

function submit(server: TestServer): ReturnType<typeof post<Bundle>> {
  return post<Bundle>(`${server.base}/QuestionnaireResponse/$re-evaluate`, TURP);
}

/** The Bundle the server sends for the response (the same for every attempt and every submission). */
let expected: Bundle;

beforeAll(async () => {
  const fixture = await startMedplumTestFhirServer({ resources: STORED, transactions: false });
  const server = await withUpstream(fixture.url);
  try {
    expect((await submit(server)).status).toBe(200);
    expected = fixture.requests.find((r) => r.method === 'POST' && (r.body as Bundle).type === 'transaction')!
      .body as Bundle;
  } finally {
    await server.close();
    await fixture.close();
  }
}, 60_000);

/** How many stored resources match each write of the Bundle (its conditional key, or its id). */
async function matches(fixture: MedplumTestFhirServer): Promise<Record<string, number>> {
  const found: Record<string, number> = {};
  for (const entry of expected.entry ?? []) {
    const url = entry.request!.url;
    const [type, id] = url.split('/');
    found[url] = url.includes('?')
      ? (await fixture.search(url)).length
      : (await fixture.read(type!, id!)) === undefined
        ? 0
        : 1;
  }
  return found;
}

/** `nothing`, `complete` (every write exactly once, nothing else of those types) or `partial`. */
async function storeState(fixture: MedplumTestFhirServer): Promise<'nothing' | 'complete' | string> {
  const found = await matches(fixture);
  const counts = Object.values(found);
  if (counts.every((n) => n === 0)) {
    return 'nothing';
  }
  if (counts.every((n) => n === 1)) {
    const types = [...new Set((expected.entry ?? []).map((e) => e.resource!.resourceType))];
    for (const type of types) {
      const stored = (await fixture.search(type)).length;
      const written = (expected.entry ?? []).filter((e) => e.resource!.resourceType === type).length;
      if (stored !== written) {
        return `${stored} ${type} stored for ${written} written`;
      }
    }
    return 'complete';
  }
  return `partial: ${JSON.stringify(found)}`;
}

interface FaultCase {
  readonly name: string;
  readonly faults: readonly Fault[];
  readonly upstream?: Partial<UpstreamConfig>;
  readonly status: number;
  readonly code?: string;
  /** What the store holds once the upstream has finished with every attempt. */
  readonly stored: 'nothing' | 'complete';
  /** Why it holds that. */
  readonly why: string;
}

const times = (n: number, fault: Fault): Fault[] => Array.from({ length: n }, () => fault);

const CASES: FaultCase[] = [
  {
    name: 'a 500 before the transaction is processed, on every attempt',
    faults: times(3, { kind: 'status', status: 500 }),
    status: 502,
    code: 'exception',
    stored: 'nothing',
    why: 'the upstream refused each attempt before writing anything',
  },
  {
    name: 'a 500 after the transaction was written, on every attempt',
    faults: times(3, { kind: 'status', status: 500, afterApply: true }),
    status: 502,
    code: 'exception',
    stored: 'complete',
    why: 'each attempt was written and then reported as failed; the writes are conditional, so the second and third changed nothing',
  },
  {
    name: 'a 503 after the transaction was written, then a normal answer',
    faults: [{ kind: 'status', status: 503, afterApply: true }],
    status: 200,
    stored: 'complete',
    why: 'the retry sent the same conditional writes again, which matched what the first attempt wrote',
  },
  {
    name: 'a malformed 200 before the transaction is processed',
    faults: [{ kind: 'malformed' }],
    status: 502,
    code: 'exception',
    stored: 'nothing',
    why: 'the upstream answered garbage without writing; a malformed answer is not retried',
  },
  {
    name: 'a malformed 200 after the transaction was written',
    faults: [{ kind: 'malformed', afterApply: true }],
    status: 502,
    code: 'exception',
    stored: 'complete',
    why: 'the upstream wrote everything and then sent an unreadable answer',
  },
  {
    name: 'the connection dropped before any answer, on every attempt',
    faults: times(3, { kind: 'drop' }),
    status: 502,
    code: 'exception',
    stored: 'nothing',
    why: 'the upstream dropped each request before processing it',
  },
  {
    name: 'the connection dropped in the middle of the answer, on every attempt',
    faults: times(3, { kind: 'truncate', afterApply: true }),
    status: 502,
    code: 'exception',
    stored: 'complete',
    why: 'each attempt was written before half of its answer was sent; the repeats changed nothing',
  },
  {
    name: 'the connection dropped in the middle of the answer once, then a normal answer',
    faults: [{ kind: 'truncate', afterApply: true }],
    status: 200,
    stored: 'complete',
    why: 'a broken answer is retried like a network error, and the retry found everything written',
  },
  {
    name: 'slower than the timeout on every attempt, before processing',
    faults: times(2, { kind: 'slow', ms: 6_000 }),
    upstream: { timeoutMs: 2_000, retries: 1 },
    status: 504,
    code: 'timeout',
    stored: 'complete',
    why: 'the upstream kept processing after this server gave up: both attempts were written later, the second changing nothing',
  },
  {
    name: 'slower than the timeout on every attempt, after writing',
    faults: times(2, { kind: 'slow', ms: 6_000, afterApply: true }),
    upstream: { timeoutMs: 2_000, retries: 1 },
    status: 504,
    code: 'timeout',
    stored: 'complete',
    why: 'the transaction was written before the answer was late',
  },
];

describe('an upstream fault leaves nothing or the complete set, and a later submission leaves exactly one set', () => {
  test.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const fixture = await startMedplumTestFhirServer({ resources: STORED, transactions: false });
    const server = await withUpstream(fixture.url, c.upstream);
    try {
      fixture.faults.push(...c.faults);
      const res = await submit(server);
      if (c.code) {
        expectOutcome(res, c.status, c.code);
      } else {
        expect({ status: res.status, type: res.body.type }).toEqual({
          status: c.status,
          type: 'transaction-response',
        });
      }
      // Every attempt carried the same Bundle.
      for (const r of fixture.requests.filter(
        (q) => q.method === 'POST' && (q.body as Bundle).type === 'transaction'
      )) {
        expect(r.body).toEqual(expected);
      }
      await fixture.settled();
      expect({ stored: await storeState(fixture), why: c.why }).toEqual({ stored: c.stored, why: c.why });

      // No fault left: the resubmission (through a server with the default timeout) succeeds, and the
      // store holds each resource once.
      expect(fixture.faults).toEqual([]);
      const rerun = await withUpstream(fixture.url);
      const retry = await submit(rerun).finally(() => rerun.close());
      expect({ status: retry.status, type: retry.body.type }).toEqual({
        status: 200,
        type: 'transaction-response',
      });
      expect(await storeState(fixture)).toBe('complete');
      expect(server.logs.filter((l) => l.msg === 'request failed')).toEqual([]);
    } finally {
      await server.close();
      await fixture.close();
    }
  });
});

describe('an upstream that is not there', () => {
  test('down, nothing listening (connection refused): 502 after the retries, then success once it is back on the same port', async () => {
    const first = await startMedplumTestFhirServer({ resources: STORED, transactions: false });
    const port = Number(new URL(first.url).port);
    await first.close();
    const server = await withUpstream(first.url);
    try {
      expect(expectOutcome(await submit(server), 502, 'exception')[0]).toBe(
        'The upstream FHIR server is unreachable or dropped the connection'
      );
      const back = await startMedplumTestFhirServer({ resources: STORED, transactions: false, port });
      try {
        const retry = await submit(server);
        expect({ status: retry.status, type: retry.body.type }).toEqual({
          status: 200,
          type: 'transaction-response',
        });
        expect(await storeState(back)).toBe('complete');
      } finally {
        await back.close();
      }
    } finally {
      await server.close();
    }
  });

  test('a listener that takes the connection and never answers: 504 after the retries', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const server = await withUpstream(`http://127.0.0.1:${(silent.address() as AddressInfo).port}/fhir`, {
      timeoutMs: 2_000,
      retries: 1,
    });
    try {
      expect(expectOutcome(await submit(server), 504, 'timeout')[0]).toBe(
        'The upstream FHIR server did not answer in time'
      );
      expect(server.logs.filter((l) => l.msg === 'upstream call').map((l) => l.status)).toEqual([504, 504]);
    } finally {
      await server.close();
      silent.closeAllConnections();
      silent.close();
    }
  });
});

describe('redirects from the upstream', () => {
  test('are not followed: a cross-origin 307 and a redirect loop each give one request and a 502, nothing sent elsewhere', async () => {
    const hits: string[] = [];
    const elsewhere = createServer((req, res) => {
      hits.push(`elsewhere ${req.method} ${req.url}`);
      res.end();
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    const target = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/fhir`;
    const redirecting = createServer((req, res) => {
      hits.push(`upstream ${req.method} ${req.url}`);
      const loop = req.url?.includes('loop');
      res.writeHead(307, { location: loop ? req.url : `${target}${req.url ?? ''}` }).end();
    });
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}`;
    try {
      for (const base of [`${origin}/fhir`, `${origin}/loop/fhir`]) {
        hits.length = 0;
        const server = await withUpstream(base, { retries: 2 });
        try {
          const texts = expectOutcome(await submit(server), 502, 'exception');
          expect(texts[0]).toContain('redirects are not followed');
          expect(hits).toHaveLength(1);
          expect(hits[0]).toMatch(/^upstream GET /);
        } finally {
          await server.close();
        }
      }
    } finally {
      redirecting.close();
      elsewhere.close();
    }
  }, 60_000);
});
