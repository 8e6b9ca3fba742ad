import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { QuestionnaireResponse } from '@medplum/fhirtypes';
import type { TestServer } from '../helpers/http';
import { post, request, startServer } from '../helpers/http';
import { createLogger } from '../../src/http/logging';
import type { MedplumTestFhirServer } from '../helpers/medplum-test-fhir-server';
import { startMedplumTestFhirServer } from '../helpers/medplum-test-fhir-server';
import { example } from '../helpers/bad-input';
import { scenarios } from '../helpers/scenarios';

/** The responses the tests submit, stored upstream first (the server evaluates the stored copy). */
const STORED = scenarios().map((s) => s.response);

const EXAMPLES = [
  're-example-turp-tamsulosin',
  're-example-anejaculation',
  're-example-diabetic-confirmed',
  're-example-distress-pe',
];
const base = scenarios().find((s) => s.name === 'example-turp-tamsulosin')!.response as QuestionnaireResponse;

/** The example with distinctive identifying values that must never reach the log. */
const PHI = {
  id: 'zz-phi-response-id',
  subject: 'Patient/zz-phi-subject-7731',
  author: 'Dr Zelda Phiname',
  identifier: 'MRN-PHI-99881',
};
const RESPONSE: QuestionnaireResponse = {
  ...base,
  id: PHI.id,
  identifier: { system: 'urn:oid:1.2.3', value: PHI.identifier },
  subject: { reference: PHI.subject },
  source: { reference: PHI.subject },
  author: { reference: 'Practitioner/x', display: PHI.author },
};

let server: TestServer;
let fixture: MedplumTestFhirServer;

beforeAll(async () => {
  fixture = await startMedplumTestFhirServer({ resources: STORED, transactions: false });
  server = await startServer({ upstream: { url: fixture.url } });
});
afterAll(async () => {
  await server.close();
  await fixture.close();
});

describe('request ids', () => {
  test("the caller's X-Request-Id is echoed and stamped on every log line of the request", async () => {
    const res = await request(`${server.base}/metadata`, { headers: { 'x-request-id': 'abc-123' } });
    expect(res.headers.get('x-request-id')).toBe('abc-123');
    const line = server.logs.find((l) => l.reqId === 'abc-123' && l.msg === 'request completed');
    expect(line).toMatchObject({ method: 'GET', route: '/fhir/metadata', status: 200 });
  });

  test('without one, or with an unsafe one, a UUID is generated', async () => {
    const none = await request(`${server.base}/metadata`);
    expect(none.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const unsafe = await request(`${server.base}/metadata`, {
      headers: { 'x-request-id': 'a b\tc<script>' },
    });
    expect(unsafe.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('no PHI at the default level', () => {
  test('evaluations, upstream calls, validation failures and searches log no identifiers, names or values', async () => {
    const from = server.logs.length;
    await fixture.store(RESPONSE);
    expect((await post(`${server.base}/QuestionnaireResponse/$re-evaluate`, RESPONSE)).status).toBe(200);
    const broken: QuestionnaireResponse = { ...RESPONSE, status: 'in-progress' };
    await fixture.store(broken);
    expect((await post(`${server.base}/QuestionnaireResponse/$re-evaluate`, broken)).status).toBe(422);
    expect((await post(`${server.base}/QuestionnaireResponse/$validate`, broken)).status).toBe(200);
    await request(
      `${server.base}/ValueSet/$expand?url=http://re-fhir.org/fhir/ValueSet/re-alpha-blockers&filter=zzsecretfilter`
    );
    await request(`${server.base}/Patient/${PHI.subject.split('/')[1]}`);

    const written = JSON.stringify(server.logs.slice(from));
    expect(server.logs.slice(from).some((l) => l.msg === 'upstream call')).toBe(true);
    expect(server.logs.slice(from).some((l) => l.msg === 'request rejected')).toBe(true);
    for (const value of [...Object.values(PHI), 'zz-phi-subject', 'zzsecretfilter', 'tamsulosin']) {
      expect({ value, found: written.includes(value) }).toEqual({ value, found: false });
    }
  });
});

describe('no PHI at the default level, for every shipped example', () => {
  /**
   * What of a response is about the patient: its ids and references, names (display), identifiers and
   * every answer value (dates, codes, displays and numbers as text; not booleans). Values shorter than
   * four characters say nothing on their own and would match anywhere.
   */
  function phiOf(response: QuestionnaireResponse): string[] {
    const found = new Set<string>();
    const walk = (value: unknown, key: string, inAnswer: boolean): void => {
      if (Array.isArray(value)) {
        value.forEach((v) => walk(v, key, inAnswer));
      } else if (typeof value === 'object' && value !== null) {
        for (const [k, v] of Object.entries(value)) {
          walk(v, k, inAnswer || k === 'answer');
        }
      } else if (
        typeof value !== 'boolean' &&
        (['id', 'reference', 'display', 'value'].includes(key) || (inAnswer && key !== 'system'))
      ) {
        const text = String(value);
        if (text.length >= 4 && !text.startsWith('http')) {
          found.add(text);
        }
      }
    };
    walk(response, '', false);
    return [...found];
  }

  /** The response with identifying values that could not occur in a log by chance. */
  function marked(response: QuestionnaireResponse, n: number): QuestionnaireResponse {
    return {
      ...response,
      id: `zzq${n}-phi-id`,
      identifier: { system: 'urn:oid:1.2.3', value: `MRN-ZZ${n}-4471` },
      subject: { reference: `Patient/zzp${n}-phi`, display: `Zelda Zyx${n}` },
      author: { reference: `Practitioner/zzr${n}-phi`, display: `Dr Quentin Qwx${n}` },
    };
  }

  test('re-evaluate, extract and validate, accepted or refused, with the upstream: no value of the request reaches the log', async () => {
    const from = server.logs.length;
    const responses = EXAMPLES.map((id, n) => marked(example(id), n));
    for (const response of responses) {
      await fixture.store(response);
    }
    for (const response of responses) {
      for (const op of ['$re-evaluate', '$extract', '$validate']) {
        expect((await post(`${server.base}/QuestionnaireResponse/${op}`, response)).status).toBe(200);
      }
      // Refused as breaking the Questionnaire, and as not FHIR.
      const broken = { ...response, status: 'in-progress' as const };
      await fixture.store(broken);
      expect((await post(`${server.base}/QuestionnaireResponse/$re-evaluate`, broken)).status).toBe(422);
      const truncated = JSON.stringify(response).slice(0, 600);
      expect((await post(`${server.base}/QuestionnaireResponse/$re-evaluate`, truncated)).status).toBe(400);
    }

    const lines = server.logs.slice(from);
    expect(lines.filter((l) => l.msg === 'upstream call' && l.upstream === 'transaction')).toHaveLength(
      responses.length
    );
    expect(lines.every((l) => Number(l.level) <= 30)).toBe(true);
    const written = JSON.stringify(lines);
    const phi = [...new Set(responses.flatMap(phiOf))];
    expect(phi.length).toBeGreaterThan(40);
    // Whole values only: "complete" (an answer code) is not found in "request completed".
    const appears = (value: string): boolean =>
      new RegExp(`(?<![A-Za-z0-9])${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9])`).test(
        written
      );
    expect(phi.filter(appears)).toEqual([]);
    // The test can fail: the same search finds values that are there.
    expect(appears('request completed')).toBe(true);
  }, 60_000);
});

describe('the default logger', () => {
  test('writes every line at its level to its destination', () => {
    const dir = mkdtempSync(join(tmpdir(), 're-fhir-log-'));
    const path = join(dir, 'server.log');
    try {
      const logger = createLogger('info', path);
      for (let i = 0; i < 50; i++) {
        logger.info({ n: i }, 'line');
      }
      logger.debug('below the level');
      const text = readFileSync(path, 'utf8');
      const lines = text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.map((l) => [l.msg, l.n, l.service])).toEqual(
        Array.from({ length: 50 }, (_, i) => ['line', i, 're-fhir'])
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
