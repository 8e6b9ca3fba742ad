import type { Bundle, OperationOutcome, Parameters, QuestionnaireResponse } from '@medplum/fhirtypes';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluateResponse } from '../../../src/core/operations/evaluate';
import { extractOperation } from '../../../src/core/operations/extract';
import { appConfigFromEnv } from '../../../src/http/config';
import { applyPatch } from '../../helpers/bad-input';
import { testEngine } from '../../helpers/engine';
import type { TestServer } from '../../helpers/http';
import { expectOutcome, post, request, startServer } from '../../helpers/http';
import { counterIds } from '../../helpers/ids';
import { golden, scenarios } from '../../helpers/scenarios';

const EXAMPLE = JSON.parse(
  readFileSync(
    join(__dirname, '../../../profiles/examples/QuestionnaireResponse-re-example-turp-tamsulosin.json'),
    'utf8'
  )
) as QuestionnaireResponse;

let server: TestServer;
let ids = counterIds();

beforeAll(async () => {
  // The server's ids restart for every request, so its output is comparable with a fresh library call.
  server = await startServer({ newId: () => ids(), inlineDefinitions: true });
});
afterAll(() => server.close());
beforeEach(() => {
  ids = counterIds();
});

const url = (op: string): string => `${server.base}/QuestionnaireResponse/${op}`;

function withoutAnswer(qr: QuestionnaireResponse, linkId: string): QuestionnaireResponse {
  const copy = structuredClone(qr);
  const strip = (items: QuestionnaireResponse['item']): QuestionnaireResponse['item'] =>
    items
      ?.filter((i) => i.linkId !== linkId)
      .map((i) => ({ ...i, ...(i.item ? { item: strip(i.item) } : {}) }));
  copy.item = strip(copy.item);
  return copy;
}

describe('POST QuestionnaireResponse/$re-evaluate', () => {
  test.each(scenarios().map((s) => [s.name, s]))(
    '%s: the Bundle equals the library evaluation and the golden file',
    async (_name, scenario) => {
      const res = await post<Bundle>(url('$re-evaluate'), scenario.response);
      const library = evaluateResponse(scenario.response, testEngine()).bundle;
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/fhir+json; charset=utf-8');
      expect(res.body).toEqual(library);
      expect(res.body).toEqual(golden(scenario, library));
    }
  );

  test('accepts Parameters with questionnaire-response and context references', async () => {
    const res = await post<Bundle>(url('$re-evaluate'), {
      resourceType: 'Parameters',
      parameter: [
        { name: 'questionnaire-response', resource: EXAMPLE },
        { name: 'practitioner', valueString: 'Practitioner/p1' },
      ],
    });
    const library = evaluateResponse(EXAMPLE, testEngine(), { practitioner: 'Practitioner/p1' }).bundle;
    expect(res.status).toBe(200);
    expect(res.body).toEqual(library);
  });

  test('accepts application/json as well as application/fhir+json', async () => {
    const res = await post<Bundle>(url('$re-evaluate'), EXAMPLE, { 'content-type': 'application/json' });
    expect({ status: res.status, type: res.body.type }).toEqual({ status: 200, type: 'transaction' });
  });

  test('_pretty=true indents the Bundle by 2, byte for byte as JSON.stringify does; without it, compact', async () => {
    const library = evaluateResponse(EXAMPLE, testEngine()).bundle;
    const pretty = await post<Bundle>(`${url('$re-evaluate')}?_pretty=true`, EXAMPLE);
    expect(pretty.status).toBe(200);
    expect(pretty.text).toBe(JSON.stringify(library, null, 2));
    expect(pretty.headers.get('content-length')).toBe(String(Buffer.byteLength(pretty.text)));
    ids = counterIds();
    const compact = await post<Bundle>(`${url('$re-evaluate')}?_pretty=false`, EXAMPLE);
    expect(compact.text).toBe(JSON.stringify(library));
  });

  test("logs the evaluation on the request's one line: its entries and warnings, counted from the Bundle and issues the engine gave", async () => {
    const { bundle, issues } = evaluateResponse(EXAMPLE, testEngine());
    const from = server.logs.length;
    const res = await post(url('$re-evaluate'), EXAMPLE, { 'x-request-id': 'log-check-1' });
    expect(res.status).toBe(200);
    const lines = server.logs.slice(from).filter((l) => l.reqId === 'log-check-1');
    expect(lines).toEqual([
      expect.objectContaining({
        msg: 'request completed',
        status: 200,
        entries: bundle.entry!.length,
        warnings: issues.filter((i) => i.severity === 'warning').length,
      }),
    ]);
    expect(bundle.entry!.length).toBeGreaterThan(0);
  });

  test('a response missing a required answer is 422 with the engine issue', async () => {
    const res = await post(url('$re-evaluate'), withoutAnswer(EXAMPLE, 'dry-orgasm'));
    const texts = expectOutcome(res, 422, 'required');
    expect(texts.join(' ')).toMatch(/dry-orgasm/);
  });

  test('a response that is not valid FHIR is 400', async () => {
    const res = await post(url('$re-evaluate'), { ...EXAMPLE, status: 42 });
    expect(res.status).toBe(400);
    expect((res.body as OperationOutcome).resourceType).toBe('OperationOutcome');
  });

  test('a response of an unknown Questionnaire is 404', async () => {
    const res = await post(url('$re-evaluate'), {
      ...EXAMPLE,
      questionnaire: 'http://example.org/Questionnaire/unknown|1',
    });
    const texts = expectOutcome(res, 404, 'not-found');
    expect(texts[0]).toContain('http://example.org/Questionnaire/unknown|1');
  });

  test('another resource type, an empty body and a Parameters without the response are 400', async () => {
    expectOutcome(await post(url('$re-evaluate'), { resourceType: 'Patient' }), 400, 'structure');
    expectOutcome(
      await request(url('$re-evaluate'), {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json' },
      }),
      400,
      'required'
    );
    expectOutcome(
      await post(url('$re-evaluate'), { resourceType: 'Parameters', parameter: [] }),
      400,
      'required'
    );
  });

  test('an unknown Parameters name is 400 and names the accepted ones', async () => {
    const res = await post(url('$re-evaluate'), {
      resourceType: 'Parameters',
      parameter: [{ name: 'questionnaireResponse', resource: EXAMPLE }],
    });
    const texts = expectOutcome(res, 400, 'not-supported');
    expect(texts[0]).toContain('questionnaireResponse');
    expect(texts[0]).toContain('questionnaire-response');
  });

  test('regression: a Parameters property R4 does not define is 400, not silently ignored', async () => {
    for (const [body, where] of [
      [
        {
          resourceType: 'Parameters',
          parameter: [{ name: 'questionnaire-response', resource: EXAMPLE, note: 'x' }],
        },
        'Parameters.parameter[0] has an unknown property "note"',
      ],
      [
        {
          resourceType: 'Parameters',
          parameter: [{ name: 'questionnaire-response', resource: EXAMPLE }],
          questionnaireResponse: EXAMPLE,
        },
        'Parameters has an unknown property "questionnaireResponse"',
      ],
      [
        JSON.parse(
          `{"resourceType":"Parameters","parameter":[{"name":"questionnaire-response","__proto__":{"resource":${JSON.stringify(EXAMPLE)}}}]}`
        ),
        'Parameters.parameter[0] has an unknown property "__proto__"',
      ],
    ] as const) {
      expect(expectOutcome(await post(url('$re-evaluate'), body), 400, 'structure')).toEqual([where]);
    }
    const withExtension = {
      resourceType: 'Parameters',
      id: 'p1',
      parameter: [
        {
          name: 'questionnaire-response',
          resource: EXAMPLE,
          extension: [{ url: 'http://example.org/x', valueString: 'y' }],
        },
        { name: 'practitioner', valueString: 'Practitioner/p1', _valueString: { id: 'v' } },
      ],
    };
    expect((await post(url('$re-evaluate'), withExtension)).status).toBe(200);
  });

  test('regression: a `_` sibling is accepted only for a primitive element (`_valueCoding`, `_resource` were let through)', async () => {
    const parameters = (extra: Record<string, unknown>, root: Record<string, unknown> = {}): unknown => ({
      resourceType: 'Parameters',
      ...root,
      parameter: [
        { name: 'questionnaire-response', resource: EXAMPLE },
        { name: 'practitioner', ...extra },
      ],
    });
    const ext = { extension: [{ url: 'http://example.org/x', valueString: 'y' }] };
    for (const [body, unknown] of [
      [parameters({ valueString: 'Practitioner/p1', _valueCoding: ext }), 'parameter[1]', '_valueCoding'],
      [parameters({ valueString: 'Practitioner/p1', _resource: ext }), 'parameter[1]', '_resource'],
      [parameters({ valueString: 'Practitioner/p1', _part: ext }), 'parameter[1]', '_part'],
      [parameters({ valueString: 'Practitioner/p1', _id: ext }), 'parameter[1]', '_id'],
      [parameters({ valueString: 'Practitioner/p1' }, { _parameter: ext }), '', '_parameter'],
      [parameters({ valueString: 'Practitioner/p1' }, { valueString: 'x' }), '', 'valueString'],
    ].map(([b, at, key]) => [b, `Parameters${at ? `.${at}` : ''} has an unknown property "${key}"`])) {
      expect(expectOutcome(await post(url('$re-evaluate'), body), 400, 'structure')).toEqual([unknown]);
    }
    // Primitives keep their siblings: Parameters.id and .language, parameter.name and a primitive value[x].
    const primitives = parameters(
      { _name: ext, valueString: 'Practitioner/p1', _valueString: ext },
      { id: 'p1', _id: ext, language: 'en', _language: ext }
    );
    expect((await post(url('$re-evaluate'), primitives)).status).toBe(200);
    // A type name with digits is a value[x] like any other: refused for its type, not as an unknown property.
    expect(
      expectOutcome(
        await post(url('$re-evaluate'), parameters({ valueBase64Binary: 'AAAA', _valueBase64Binary: ext })),
        400,
        'invalid'
      )
    ).toEqual([expect.stringContaining('Parameter practitioner must be a string')]);
  });

  test('regression: a response that supports nothing to write gets an empty transaction (200), not a 500', async () => {
    const nothing = applyPatch(scenarios().find((s) => s.name === 'no-findings')!.response, [
      { op: 'remove-item', linkId: 'shim-total' },
      { op: 'remove-item', linkId: 'pedt-total' },
    ]);
    const res = await post<Bundle>(url('$re-evaluate'), nothing);
    expect({ status: res.status, body: res.body }).toEqual({
      status: 200,
      body: evaluateResponse(nothing, testEngine()).bundle,
    });
    expect(res.body.entry).toBeUndefined();
  });

  test('GET is 405 with Allow: POST', async () => {
    const res = await request(url('$re-evaluate'));
    expectOutcome(res, 405, 'not-supported');
    expect(res.headers.get('allow')).toBe('POST');
  });
});

describe('POST QuestionnaireResponse/$extract', () => {
  test('returns SDC Parameters with return (the Bundle) and issues, equal to the library', async () => {
    const res = await post<Parameters>(url('$extract'), EXAMPLE);
    const library = extractOperation(EXAMPLE, testEngine());
    expect(res.status).toBe(200);
    expect(res.body.parameter?.map((p) => p.name)).toEqual(['return', 'issues']);
    expect(res.body.parameter?.[0]?.resource).toEqual(library.bundle);
    expect((res.body.parameter?.[1]?.resource as OperationOutcome).resourceType).toBe('OperationOutcome');
  });

  test('accepts Parameters with questionnaire-response and an inline questionnaire', async () => {
    const engine = testEngine();
    const questionnaire = engine.registry.resolve(EXAMPLE.questionnaire!, 'Questionnaire');
    const res = await post<Parameters>(url('$extract'), {
      resourceType: 'Parameters',
      parameter: [
        { name: 'questionnaire-response', resource: EXAMPLE },
        { name: 'questionnaire', resource: questionnaire },
      ],
    });
    expect(res.status).toBe(200);
    expect((res.body.parameter?.[0]?.resource as Bundle).entry?.length).toBe(
      extractOperation(EXAMPLE, testEngine()).bundle.entry?.length
    );
  }, 60_000);

  test('an inline questionnaire is refused unless INLINE_DEFINITIONS allows it (its expressions run here)', async () => {
    const questionnaire = testEngine().registry.resolve(EXAMPLE.questionnaire!, 'Questionnaire');
    const body: Parameters = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'questionnaire-response', resource: EXAMPLE },
        { name: 'questionnaire', resource: questionnaire },
      ],
    };
    const plain = await startServer(appConfigFromEnv({}));
    try {
      for (const operation of ['$extract', '$re-evaluate']) {
        const texts = expectOutcome(
          await post(`${plain.base}/QuestionnaireResponse/${operation}`, body),
          400,
          'not-supported'
        );
        expect(texts.join(' ')).toContain('INLINE_DEFINITIONS');
      }
      // The same response by canonical is served.
      expect((await post(`${plain.base}/QuestionnaireResponse/$extract`, EXAMPLE)).status).toBe(200);
    } finally {
      await plain.close();
    }
  });

  test('regression: a response with nothing to extract gets a valid Parameters, without an empty entry list', async () => {
    const nothing = applyPatch(scenarios().find((s) => s.name === 'no-findings')!.response, [
      { op: 'remove-item', linkId: 'shim-total' },
      { op: 'remove-item', linkId: 'pedt-total' },
    ]);
    const res = await post<Parameters>(url('$extract'), nothing);
    expect(res.status).toBe(200);
    expect(res.body.parameter?.[0]?.resource).toEqual({ resourceType: 'Bundle', type: 'transaction' });
    expect(testEngine().validator.validate(res.body).issues).toEqual([]);
  });

  test('persists nothing: the same request gives the same conditional creates (no ids assigned)', async () => {
    const res = await post<Parameters>(url('$extract'), EXAMPLE);
    const bundle = res.body.parameter?.[0]?.resource as Bundle;
    expect(bundle.entry?.every((e) => e.request?.method === 'POST' && e.request.ifNoneExist)).toBe(true);
  });

  test('a response breaking its Questionnaire is 422', async () => {
    const res = await post(url('$extract'), withoutAnswer(EXAMPLE, 'dry-orgasm'));
    expect(res.status).toBe(422);
  });
});

describe('POST QuestionnaireResponse/$validate', () => {
  test('a valid response gives 200 and an OperationOutcome without errors', async () => {
    const res = await post<OperationOutcome>(url('$validate'), EXAMPLE);
    expect(res.status).toBe(200);
    expect(res.body.issue?.filter((i) => i.severity === 'error' || i.severity === 'fatal')).toEqual([]);
  });

  test('an invalid response gives 200 and all its issues, structural and conformance', async () => {
    const broken = { ...withoutAnswer(EXAMPLE, 'dry-orgasm'), authored: 'yesterday' };
    const res = await post<OperationOutcome>(url('$validate'), broken);
    expect(res.status).toBe(200);
    const errors = res.body.issue?.filter((i) => i.severity === 'error') ?? [];
    expect(errors.some((i) => JSON.stringify(i).includes('authored'))).toBe(true);
    expect(errors.length).toBeGreaterThanOrEqual(1);
  });

  test('accepts Parameters with resource, mode and profile', async () => {
    const res = await post<OperationOutcome>(url('$validate'), {
      resourceType: 'Parameters',
      parameter: [
        { name: 'resource', resource: EXAMPLE },
        { name: 'mode', valueCode: 'create' },
        { name: 'profile', valueUri: 'http://re-fhir.org/fhir/StructureDefinition/re-questionnaireresponse' },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });

  test('regression: a resourceType that cannot be turned into text is 400, not a TypeError (500)', async () => {
    const texts = expectOutcome(
      await post(url('$validate'), '{"resourceType":[{"toString":0}]}'),
      400,
      'structure'
    );
    expect(texts).toEqual([
      'QuestionnaireResponse/$validate validates QuestionnaireResponses; this body has no resourceType',
    ]);
  });

  test('an unknown profile is 404, mode delete is 400, another resource type is 400', async () => {
    const params = (extra: object): object => ({
      resourceType: 'Parameters',
      parameter: [{ name: 'resource', resource: EXAMPLE }, extra],
    });
    expectOutcome(
      await post(url('$validate'), params({ name: 'profile', valueUri: 'http://example.org/sd' })),
      404,
      'not-found'
    );
    expectOutcome(
      await post(url('$validate'), params({ name: 'mode', valueCode: 'delete' })),
      400,
      'not-supported'
    );
    expectOutcome(await post(url('$validate'), { resourceType: 'Patient' }), 400, 'structure');
  });
});
