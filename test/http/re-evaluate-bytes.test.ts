/**
 * `$re-evaluate` reads its body as bytes and has the pool parse them (negotiation.ts rawJsonBody,
 * json-text.ts, re-evaluate-input.ts). Held equal to the path it replaced, which still serves any other
 * content type: the same body sent as `application/fhir+json` (bytes) and as
 * `application/fhir+json; charset="utf-8"` (a quoted charset: the JSON body parser, then the route) must
 * get the same status, headers, body text and log lines, for valid, malformed and mutated bodies, with
 * and without a token, inline content allowed or not.
 */
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import type { QuestionnaireResponse } from '@medplum/fhirtypes';
import { QUESTIONNAIRE_CANONICAL } from '../../src/core/constants';
import type { EngineDeps } from '../../src/core/operations';
import type { AppConfig } from '../../src/http/config';
import type { TaskRunner } from '../../src/http/pool/runner';
import { inProcessRunner } from '../../src/http/pool/runner';
import type { Task } from '../../src/http/pool/tasks';
import { AUDIENCE, bearer, ISSUER, signToken, testKey } from '../helpers/auth';
import type { TestKey } from '../helpers/auth';
import { example } from '../helpers/bad-input';
import { testEngine } from '../helpers/engine';
import type { JsonResponse, TestServer } from '../helpers/http';
import { post, startServer } from '../helpers/http';
import { counterIds } from '../helpers/ids';

const PATH = '/QuestionnaireResponse/$re-evaluate';
const BYTES = 'application/fhir+json';
const PARSED = 'application/fhir+json; charset="utf-8"';

/** A server whose tasks run in this thread on an engine whose ids restart before each request. */
interface Harness {
  readonly server: TestServer;
  /** The ops the route ran, in order. */
  readonly ops: Task['op'][];
  resetIds(): void;
}

async function harness(config: AppConfig): Promise<Harness> {
  let ids = counterIds();
  const deps: EngineDeps = { ...testEngine(), newId: () => ids() };
  const runner = inProcessRunner(deps);
  const ops: Task['op'][] = [];
  const tasks: TaskRunner = {
    ...runner,
    run: (task, signal) => {
      ops.push(task.op);
      return runner.run(task, signal);
    },
  };
  const server = await startServer({ ...config, tasks });
  return { server, ops, resetIds: () => (ids = counterIds()) };
}

/** What must not differ between the two paths: everything but the request id, date and timings. */
function comparable(h: Harness, res: JsonResponse<unknown>): unknown {
  const headers = [...res.headers].filter(([name]) => name !== 'x-request-id' && name !== 'date');
  const id = res.headers.get('x-request-id');
  const logs = h.server.logs
    .filter((line) => line.reqId === id)
    .map((line) =>
      Object.fromEntries(
        Object.entries(line).filter(([k]) => !['reqId', 'time', 'ms', 'pid', 'hostname'].includes(k))
      )
    );
  return { status: res.status, text: res.text, headers, logs };
}

/** Posts the body both ways; expects the same answer, and that only the bytes path ran `re-evaluate-body`. */
async function bothWays(
  h: Harness,
  body: string | Uint8Array,
  headers: Record<string, string> = {}
): Promise<{ bytes: JsonResponse<unknown>; bytesOps: Task['op'][] }> {
  h.resetIds();
  h.ops.length = 0;
  const bytes = await post(`${h.server.base}${PATH}`, body, { ...headers, 'content-type': BYTES });
  const bytesOps = [...h.ops];
  h.resetIds();
  h.ops.length = 0;
  const parsed = await post(`${h.server.base}${PATH}`, body, { ...headers, 'content-type': PARSED });
  expect(comparable(h, bytes)).toEqual(comparable(h, parsed));
  expect(h.ops).not.toContain('re-evaluate-body');
  // A body refused before the task (401, 413 …) runs none; any other runs the bytes task, once.
  expect(bytesOps.length === 0 || (bytesOps.length === 1 && bytesOps[0] === 're-evaluate-body')).toBe(true);
  return { bytes, bytesOps };
}

const RESPONSE = example('re-example-turp-tamsulosin') as QuestionnaireResponse;
const PATIENT = RESPONSE.subject!.reference!.replace('Patient/', '');

let key: TestKey;
let open: Harness;
let authed: Harness;
/** Tokens: every scope, read-only, patient-limited to the response's patient, to another patient. */
let tokens: Record<string, Record<string, string>>;

beforeAll(async () => {
  key = await testKey('k1');
  open = await harness({ inlineDefinitions: false });
  authed = await harness({
    inlineDefinitions: true,
    auth: { issuer: ISSUER, audience: AUDIENCE, publicKey: key.publicPem },
  });
  tokens = {
    none: {},
    all: bearer(await signToken(key, { scope: 'user/*.*' })),
    read: bearer(await signToken(key, { scope: 'user/*.read' })),
    patient: bearer(await signToken(key, { scope: 'patient/*.*', patient: PATIENT })),
    otherPatient: bearer(await signToken(key, { scope: 'patient/*.*', patient: 'someone-else' })),
  };
}, 120_000);
afterAll(async () => {
  await open?.server.close();
  await authed?.server.close();
});

describe('$re-evaluate: body bytes parsed in the task answer as the parsed body did', () => {
  test('a valid response: 200, the same Bundle, and the bytes path was taken', async () => {
    const { bytes, bytesOps } = await bothWays(open, JSON.stringify(RESPONSE));
    expect(bytes.status).toBe(200);
    expect(bytesOps).toEqual(['re-evaluate-body']);
  });

  test('the shipped Questionnaire inline, allowed and not', async () => {
    const questionnaire = testEngine().registry.resolve(QUESTIONNAIRE_CANONICAL, 'Questionnaire');
    const body = JSON.stringify({
      resourceType: 'Parameters',
      parameter: [
        { name: 'questionnaire-response', resource: RESPONSE },
        { name: 'questionnaire', resource: questionnaire },
      ],
    });
    expect((await bothWays(authed, body, tokens.all)).bytes.status).toBe(200);
    expect((await bothWays(open, body)).bytes.status).toBe(400);
  }, 60_000);

  test('gzip, a body over the limit, bytes that are not UTF-8: the same answers', async () => {
    const text = JSON.stringify(RESPONSE);
    expect((await bothWays(open, gzipSync(text), { 'content-encoding': 'gzip' })).bytes.status).toBe(200);
    expect((await bothWays(open, new Uint8Array([0x7b, 0xff, 0x7d]))).bytes.status).toBe(400);
    const small = await harness({ bodyLimit: 1_000 });
    try {
      const { bytes, bytesOps } = await bothWays(small, text);
      expect(bytes.status).toBe(413);
      expect(bytesOps).toEqual([]);
    } finally {
      await small.server.close();
    }
  });

  const texts: fc.Arbitrary<string> = fc.oneof(
    fc.constant(''),
    fc.constantFrom('null', '7', '"x"', 'true', '[]', '{}', '[{}]', '{"resourceType":7}', ' \n\t'),
    fc.string({ maxLength: 20 })
  );
  const reference = fc.oneof(
    fc.constantFrom('Encounter/1', ' Encounter/1', '', 'a\u0001b'),
    fc.integer().map(String)
  );
  const response = fc
    .record({
      status: fc.constantFrom(undefined, 'completed', 'x'),
      subject: fc.constantFrom(undefined, `Patient/${PATIENT}`, 'Patient/someone-else', 7),
    })
    .map(({ status, subject }) => ({
      ...RESPONSE,
      ...(status ? { status } : {}),
      ...(subject !== undefined ? { subject: { reference: subject } } : {}),
    }));
  const parameters = fc
    .record(
      {
        qr: fc.oneof(response, fc.constant({ resourceType: 'Patient' })),
        questionnaire: fc.constantFrom(
          { resourceType: 'Questionnaire', status: 'x' },
          { resourceType: 'Basic' }
        ),
        encounter: reference,
        practitioner: reference,
        unknown: fc.constant('x'),
      },
      { requiredKeys: [] }
    )
    .map((p) => ({
      resourceType: 'Parameters',
      parameter: [
        ...(p.qr ? [{ name: 'questionnaire-response', resource: p.qr }] : []),
        ...(p.questionnaire ? [{ name: 'questionnaire', resource: p.questionnaire }] : []),
        ...(p.encounter !== undefined ? [{ name: 'encounter', valueString: p.encounter }] : []),
        ...(p.practitioner !== undefined
          ? [{ name: 'practitioner', valueReference: { reference: p.practitioner } }]
          : []),
        ...(p.unknown ? [{ name: 'unknown', valueString: p.unknown }] : []),
      ],
    }));
  /** A JSON text, then how it is sent: as is, with blanks or a BOM before, cut, with trailing junk. */
  const body = fc
    .tuple(
      fc.oneof(
        texts,
        response.map((r) => JSON.stringify(r)),
        parameters.map((p) => JSON.stringify(p))
      ),
      fc.constantFrom('as is', 'blank before', 'bom', 'bom twice', 'cut', 'junk after', 'blank after'),
      fc.nat()
    )
    .map(([text, how, n]) => {
      switch (how) {
        case 'blank before':
          return ` \r\n\t${text}`;
        case 'bom':
          return `\ufeff${text}`;
        case 'bom twice':
          return `\ufeff\ufeff${text}`;
        case 'cut':
          return text.slice(0, text.length === 0 ? 0 : n % text.length);
        case 'junk after':
          return `${text}}`;
        case 'blank after':
          return `${text}\n `;
        default:
          return text;
      }
    });

  test('generated bodies, without auth and with each kind of token', async () => {
    await fc.assert(
      fc.asyncProperty(
        body,
        fc.constantFrom('open', 'none', 'all', 'read', 'patient', 'otherPatient'),
        async (text, who) => {
          const h = who === 'open' ? open : authed;
          await bothWays(h, text, who === 'open' ? {} : tokens[who]);
        }
      ),
      { numRuns: 60 }
    );
  }, 120_000);
});
