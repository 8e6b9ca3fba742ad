import type { Parameters, ValueSet } from '@medplum/fhirtypes';
import { lookupParameters, unwrap, validateCodeParameters } from '../../../src/core/terminology';
import { testEngine } from '../../helpers/engine';
import type { TestServer } from '../../helpers/http';
import { expectOutcome, post, request, startServer } from '../../helpers/http';

const ALPHA = 'http://re-fhir.org/fhir/ValueSet/re-alpha-blockers';
const ATC = 'http://www.whocc.no/atc';
const RULES = 'http://re-fhir.org/fhir/CodeSystem/re-rule';

let server: TestServer;
const engine = testEngine();

beforeAll(async () => {
  server = await startServer({ engine });
});
afterAll(() => server.close());

const q = (params: Record<string, string>): string => new URLSearchParams(params).toString();

describe('ValueSet/$expand', () => {
  test('by url with filter, count and offset equals the library expansion', async () => {
    const res = await request<ValueSet>(
      `${server.base}/ValueSet/$expand?${q({ url: ALPHA, filter: 'osin', count: '2', offset: '1' })}`
    );
    const expected = unwrap(
      engine.terminology.expand(ALPHA, { clock: engine.clock, filter: 'osin', count: 2, offset: 1 })
    );
    expect(res.status).toBe(200);
    expect(res.body).toEqual(expected);
    expect(res.body.expansion?.contains).toHaveLength(2);
  });

  test('at instance level, and by POST with Parameters, including an inline ValueSet', async () => {
    const expected = unwrap(engine.terminology.expand(ALPHA, { clock: engine.clock }));
    expect((await request<ValueSet>(`${server.base}/ValueSet/re-alpha-blockers/$expand`)).body).toEqual(
      expected
    );
    const byPost = await post<ValueSet>(`${server.base}/ValueSet/$expand`, {
      resourceType: 'Parameters',
      parameter: [{ name: 'url', valueUri: ALPHA }],
    });
    expect(byPost.body).toEqual(expected);
    const inline: ValueSet = {
      resourceType: 'ValueSet',
      status: 'active',
      compose: { include: [{ system: ATC, concept: [{ code: 'G04CA02', display: 'tamsulosin' }] }] },
    };
    const inlineRes = await post<ValueSet>(`${server.base}/ValueSet/$expand`, {
      resourceType: 'Parameters',
      parameter: [{ name: 'valueSet', resource: inline }],
    });
    expect(inlineRes.body.expansion?.contains?.map((c) => c.code)).toEqual(['G04CA02']);
  });

  test('an unknown ValueSet is 404; no url, both url and valueSet, a bad count or an unsupported parameter is 400', async () => {
    expectOutcome(
      await request(`${server.base}/ValueSet/$expand?url=http://example.org/vs`),
      404,
      'not-found'
    );
    expectOutcome(await request(`${server.base}/ValueSet/$expand`), 400, 'required');
    expectOutcome(await request(`${server.base}/ValueSet/nope/$expand`), 404, 'not-found');
    expectOutcome(await request(`${server.base}/ValueSet/$expand?url=${ALPHA}&count=x`), 400, 'invalid');
    expectOutcome(await request(`${server.base}/ValueSet/$expand?url=${ALPHA}&count=-1`), 400, 'invalid');
    expectOutcome(
      await request(`${server.base}/ValueSet/$expand?url=${ALPHA}&activeOnly=true`),
      400,
      'not-supported'
    );
    const both = await post(`${server.base}/ValueSet/$expand`, {
      resourceType: 'Parameters',
      parameter: [
        { name: 'url', valueUri: ALPHA },
        { name: 'valueSet', resource: { resourceType: 'ValueSet', status: 'active' } },
      ],
    });
    expectOutcome(both, 400, 'required');
  });

  test('a structurally invalid inline ValueSet is 400', async () => {
    const res = await post(`${server.base}/ValueSet/$expand`, {
      resourceType: 'Parameters',
      parameter: [{ name: 'valueSet', resource: { resourceType: 'ValueSet', status: 7 } }],
    });
    expect(res.status).toBe(400);
  });
});

describe('ValueSet/$validate-code and CodeSystem/$validate-code', () => {
  test('a member code is true with its display; another code is false with a message', async () => {
    const yes = await request<Parameters>(
      `${server.base}/ValueSet/$validate-code?${q({ url: ALPHA, system: ATC, code: 'G04CA02' })}`
    );
    expect(yes.body).toEqual(
      validateCodeParameters(unwrap(engine.terminology.validateCode(ALPHA, { system: ATC, code: 'G04CA02' })))
    );
    expect(yes.body.parameter?.[0]).toEqual({ name: 'result', valueBoolean: true });
    expect(yes.body.parameter?.find((p) => p.name === 'display')?.valueString).toBe('tamsulosin');
    const no = await request<Parameters>(
      `${server.base}/ValueSet/re-alpha-blockers/$validate-code?${q({ system: ATC, code: 'N06AB06' })}`
    );
    expect(no.body.parameter?.[0]).toEqual({ name: 'result', valueBoolean: false });
    expect(no.body.parameter?.find((p) => p.name === 'message')?.valueString).toBeDefined();
  });

  test('POST with a coding or a codeableConcept', async () => {
    const coding = await post<Parameters>(`${server.base}/ValueSet/$validate-code`, {
      resourceType: 'Parameters',
      parameter: [
        { name: 'url', valueUri: ALPHA },
        { name: 'coding', valueCoding: { system: ATC, code: 'G04CA04' } },
      ],
    });
    expect(coding.body.parameter?.[0]).toEqual({ name: 'result', valueBoolean: true });
    const concept = await post<Parameters>(`${server.base}/CodeSystem/$validate-code`, {
      resourceType: 'Parameters',
      parameter: [
        { name: 'url', valueUri: RULES },
        { name: 'codeableConcept', valueCodeableConcept: { coding: [{ system: RULES, code: 'R9' }] } },
      ],
    });
    expect(concept.body.parameter?.[0]).toEqual({ name: 'result', valueBoolean: true });
  });

  test('CodeSystem/$validate-code by url and at instance level', async () => {
    const byUrl = await request<Parameters>(
      `${server.base}/CodeSystem/$validate-code?${q({ url: RULES, code: 'R1' })}`
    );
    expect(byUrl.body).toEqual(
      validateCodeParameters(
        unwrap(engine.terminology.validateCodeInCodeSystem(RULES, { system: RULES, code: 'R1' }))
      )
    );
    const instance = await request<Parameters>(`${server.base}/CodeSystem/re-rule/$validate-code?code=R99`);
    expect(instance.body.parameter?.[0]).toEqual({ name: 'result', valueBoolean: false });
  });

  test('no code, or two of code/coding/codeableConcept, is 400', async () => {
    expectOutcome(await request(`${server.base}/ValueSet/$validate-code?url=${ALPHA}`), 400, 'required');
    const both = await post(`${server.base}/ValueSet/$validate-code`, {
      resourceType: 'Parameters',
      parameter: [
        { name: 'url', valueUri: ALPHA },
        { name: 'code', valueCode: 'G04CA02' },
        { name: 'coding', valueCoding: { system: ATC, code: 'G04CA02' } },
      ],
    });
    expectOutcome(both, 400, 'required');
  });
});

describe('CodeSystem/$lookup', () => {
  test('GET by system and code equals the library lookup', async () => {
    const res = await request<Parameters>(
      `${server.base}/CodeSystem/$lookup?${q({ system: RULES, code: 'R1' })}`
    );
    expect(res.body).toEqual(
      lookupParameters(unwrap(engine.terminology.lookup({ system: RULES, code: 'R1' })))
    );
    expect(res.body.parameter?.find((p) => p.name === 'display')?.valueString).toBe(
      'Suspect retrograde ejaculation'
    );
  });

  test('POST with a coding and selected properties', async () => {
    const res = await post<Parameters>(`${server.base}/CodeSystem/$lookup`, {
      resourceType: 'Parameters',
      parameter: [
        { name: 'coding', valueCoding: { system: RULES, code: 'R2' } },
        { name: 'property', valueCode: 'evidence-basis' },
      ],
    });
    expect(res.body).toEqual(
      lookupParameters(
        unwrap(
          engine.terminology.lookup({ coding: { system: RULES, code: 'R2' }, properties: ['evidence-basis'] })
        )
      )
    );
  });

  test('an unknown code or system is 404; a missing code is 400; a repeated code is 400', async () => {
    expectOutcome(
      await request(`${server.base}/CodeSystem/$lookup?${q({ system: RULES, code: 'R99' })}`),
      404,
      'not-found'
    );
    expectOutcome(
      await request(`${server.base}/CodeSystem/$lookup?${q({ system: 'http://example.org', code: 'x' })}`),
      404,
      'not-found'
    );
    expectOutcome(await request(`${server.base}/CodeSystem/$lookup?system=${RULES}`), 400, 'invalid');
    expectOutcome(
      await request(`${server.base}/CodeSystem/$lookup?system=${RULES}&code=R1&code=R2`),
      400,
      'invalid'
    );
  });

  test('a POST that is not Parameters is 400; PUT is 405', async () => {
    expectOutcome(
      await post(`${server.base}/CodeSystem/$lookup`, { resourceType: 'Patient' }),
      400,
      'structure'
    );
    const put = await request(`${server.base}/CodeSystem/$lookup`, { method: 'PUT' });
    expectOutcome(put, 405, 'not-supported');
    expect(put.headers.get('allow')).toBe('GET, POST, HEAD');
  });
});
