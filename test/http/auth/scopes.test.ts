import fc from 'fast-check';
import type { QuestionnaireResponse } from '@medplum/fhirtypes';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseScopes, WRITTEN_TYPES } from '../../../src/http/auth/scopes';
import type { TestKey } from '../../helpers/auth';
import { AUDIENCE, bearer, ISSUER, signToken, testKey } from '../../helpers/auth';
import type { TestServer } from '../../helpers/http';
import { expectOutcome, post, request, startServer } from '../../helpers/http';

const EXAMPLE = JSON.parse(
  readFileSync(
    join(__dirname, '../../../profiles/examples/QuestionnaireResponse-re-example-turp-tamsulosin.json'),
    'utf8'
  )
) as QuestionnaireResponse;
const PATIENT = EXAMPLE.subject!.reference!.split('/')[1]!;

describe('parseScopes', () => {
  const perms = (scope: string): string[][] =>
    parseScopes(scope).map((s) => [s.context, s.resourceType, [...s.permissions].join('')]);

  test('reads SMART v2 permission sets in cruds order', () => {
    expect(perms('patient/Observation.rs user/*.cruds system/Condition.cu')).toEqual([
      ['patient', 'Observation', 'rs'],
      ['user', '*', 'cruds'],
      ['system', 'Condition', 'cu'],
    ]);
  });

  test('reads SMART v1 read, write and *', () => {
    expect(perms('user/Condition.read patient/*.write system/Task.*')).toEqual([
      ['user', 'Condition', 'rs'],
      ['patient', '*', 'cud'],
      ['system', 'Task', 'cruds'],
    ]);
  });

  test('skips non-resource scopes, out-of-order permissions and query-restricted scopes', () => {
    expect(
      perms(
        'openid fhirUser launch/patient offline_access user/Condition.rc patient/Observation.rs?category=lab'
      )
    ).toEqual([]);
  });

  test('never throws and only returns well-formed scopes, whatever the input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        for (const s of parseScopes(text)) {
          expect(s.resourceType).toMatch(/^([A-Za-z]+|\*)$/);
          expect([...s.permissions].every((p) => 'cruds'.includes(p))).toBe(true);
        }
      })
    );
  });
});

describe('the scope matrix over HTTP', () => {
  let key: TestKey;
  let server: TestServer;

  beforeAll(async () => {
    key = await testKey('k');
    server = await startServer({ auth: { issuer: ISSUER, audience: AUDIENCE, publicKey: key.publicPem } });
  });
  afterAll(() => server.close());

  const as = async (scope: string, patient?: string): Promise<Record<string, string>> => ({
    ...bearer(await signToken(key, { scope, ...(patient ? { patient } : {}) })),
  });
  const reEvaluate = async (headers: Record<string, string>): Promise<number> =>
    (await post(`${server.base}/QuestionnaireResponse/$re-evaluate`, EXAMPLE, headers)).status;
  const writeScopes = (context: string, v1 = false): string =>
    WRITTEN_TYPES.map((t) => `${context}/${t}.${v1 ? 'write' : 'cu'}`).join(' ');

  test('reads need .r; searches need .s; v1 .read grants both', async () => {
    const readOnly = await as('user/ValueSet.r');
    expect((await request(`${server.base}/ValueSet/re-onset-type`, { headers: readOnly })).status).toBe(200);
    expectOutcome(await request(`${server.base}/ValueSet`, { headers: readOnly }), 403, 'forbidden');
    expect((await request(`${server.base}/ValueSet`, { headers: await as('user/ValueSet.s') })).status).toBe(
      200
    );
    const v1 = await as('user/ValueSet.read');
    expect((await request(`${server.base}/ValueSet`, { headers: v1 })).status).toBe(200);
    expect((await request(`${server.base}/ValueSet/re-onset-type`, { headers: v1 })).status).toBe(200);
  });

  test('a query-restricted scope grants nothing', async () => {
    const res = await request(`${server.base}/ValueSet/re-onset-type`, {
      headers: await as('user/ValueSet.rs?status=active'),
    });
    expectOutcome(res, 403, 'forbidden');
  });

  test('terminology operations need read on ValueSet or CodeSystem', async () => {
    const expand = `${server.base}/ValueSet/re-onset-type/$expand`;
    expect((await request(expand, { headers: await as('user/ValueSet.r') })).status).toBe(200);
    expectOutcome(await request(expand, { headers: await as('user/CodeSystem.r') }), 403, 'forbidden');
  });

  test('$extract and $validate need the QuestionnaireResponse scope', async () => {
    const extract = `${server.base}/QuestionnaireResponse/$extract`;
    expect((await post(extract, EXAMPLE, await as('user/QuestionnaireResponse.c'))).status).toBe(200);
    expectOutcome(await post(extract, EXAMPLE, await as('user/Condition.cruds')), 403, 'forbidden');
    const validate = `${server.base}/QuestionnaireResponse/$validate`;
    expect((await post(validate, EXAMPLE, await as('user/QuestionnaireResponse.r'))).status).toBe(200);
    expectOutcome(await post(validate, EXAMPLE, await as('user/Observation.r')), 403, 'forbidden');
  });

  test('$re-evaluate needs create and update on every type it writes', async () => {
    expect(await reEvaluate(await as(`user/QuestionnaireResponse.r ${writeScopes('user')}`))).toBe(200);
    expect(await reEvaluate(await as('system/*.cruds'))).toBe(200);
    expect(await reEvaluate(await as(`user/QuestionnaireResponse.read ${writeScopes('user', true)}`))).toBe(
      200
    );
    const missingTask = writeScopes('user').replace('user/Task.cu', 'user/Task.c');
    const res = await post(
      `${server.base}/QuestionnaireResponse/$re-evaluate`,
      EXAMPLE,
      await as(`user/QuestionnaireResponse.r ${missingTask}`)
    );
    expect(expectOutcome(res, 403, 'forbidden')[0]).toBe(
      'The token lacks the scopes this operation needs: Task.u'
    );
    const none = await post(
      `${server.base}/QuestionnaireResponse/$re-evaluate`,
      EXAMPLE,
      await as('user/QuestionnaireResponse.r')
    );
    const text = expectOutcome(none, 403, 'forbidden')[0]!;
    for (const type of WRITTEN_TYPES) {
      expect(text).toContain(`${type}.c`);
      expect(text).toContain(`${type}.u`);
    }
  });

  test('patient/ scopes must match the response subject', async () => {
    const scopes = `patient/QuestionnaireResponse.r ${writeScopes('patient')}`;
    expect(await reEvaluate(await as(scopes, PATIENT))).toBe(200);
    const other = await post(
      `${server.base}/QuestionnaireResponse/$re-evaluate`,
      EXAMPLE,
      await as(scopes, 'someone-else')
    );
    expect(expectOutcome(other, 403, 'forbidden')[0]).toBe(
      "The data's subject is not the patient the token is limited to"
    );
    const noClaim = await post(
      `${server.base}/QuestionnaireResponse/$re-evaluate`,
      EXAMPLE,
      await as(scopes)
    );
    expect(expectOutcome(noClaim, 403, 'forbidden')[0]).toBe(
      'patient/ scopes need a patient claim in the token'
    );
  });

  test('$apply needs PlanDefinition read, and a patient/ scope must match its subject', async () => {
    const url = `${server.base}/PlanDefinition/re-management-pathway/$apply`;
    const params = (subject: string): object => ({
      resourceType: 'Parameters',
      parameter: [{ name: 'subject', valueString: subject }],
    });
    expect(
      (await post(url, params(`Patient/${PATIENT}`), await as('patient/PlanDefinition.r', PATIENT))).status
    ).toBe(200);
    expectOutcome(
      await post(url, params('Patient/other'), await as('patient/PlanDefinition.r', PATIENT)),
      403,
      'forbidden'
    );
    expectOutcome(
      await post(url, params(`Patient/${PATIENT}`), await as('user/CarePlan.cruds')),
      403,
      'forbidden'
    );
  });
});

describe('scope escalation over HTTP', () => {
  let key: TestKey;
  let server: TestServer;

  beforeAll(async () => {
    key = await testKey('k');
    server = await startServer({ auth: { issuer: ISSUER, audience: AUDIENCE, publicKey: key.publicPem } });
  });
  afterAll(() => server.close());

  const token = async (scope: string, patient?: string): Promise<Record<string, string>> =>
    bearer(await signToken(key, { scope, ...(patient ? { patient } : {}) }));
  const status = async (path: string, body: unknown, headers: Record<string, string>): Promise<number> =>
    (await post(`${server.base}/${path}`, body, headers)).status;
  const writes = (context: string, access = 'cu'): string =>
    WRITTEN_TYPES.map((t) => `${context}/${t}.${access}`).join(' ');
  const OTHER = { ...EXAMPLE, subject: { reference: 'Patient/someone-else' } };

  test('patient/ wildcards (v1 and v2) act for their patient only, never with system/ reach', async () => {
    for (const scope of ['patient/*.cruds', 'patient/*.*', `patient/*.read ${writes('patient', 'write')}`]) {
      expect({
        scope,
        own: await status('QuestionnaireResponse/$re-evaluate', EXAMPLE, await token(scope, PATIENT)),
      }).toEqual({ scope, own: 200 });
      for (const op of ['$re-evaluate', '$extract', '$validate']) {
        expect({
          scope,
          op,
          other: await status(`QuestionnaireResponse/${op}`, OTHER, await token(scope, PATIENT)),
        }).toEqual({ scope, op, other: 403 });
      }
    }
  });

  test('a patient/ scope in the mix keeps the patient check, whatever user/ or system/ scopes grant the rest', async () => {
    const mixes = [
      `patient/QuestionnaireResponse.r ${writes('system')}`,
      `user/QuestionnaireResponse.read ${writes('patient', 'write')}`,
      `system/QuestionnaireResponse.r ${writes('system')} `.replace('system/Task.cu', 'patient/Task.cu'),
    ];
    for (const scope of mixes) {
      expect({
        scope,
        other: await status('QuestionnaireResponse/$re-evaluate', OTHER, await token(scope, PATIENT)),
      }).toEqual({ scope, other: 403 });
      expect({
        scope,
        own: await status('QuestionnaireResponse/$re-evaluate', EXAMPLE, await token(scope, PATIENT)),
      }).toEqual({ scope, own: 200 });
    }
    // Mixing v1 and v2 is a union, nothing more: v1 read and v2 create/update together.
    expect(
      await status(
        'QuestionnaireResponse/$re-evaluate',
        OTHER,
        await token(`user/QuestionnaireResponse.read ${writes('user')}`)
      )
    ).toBe(200);
  });

  test('the subject must be exactly Patient/{patient}: no other server, version, type or case', async () => {
    const scope = `patient/QuestionnaireResponse.r ${writes('patient')}`;
    for (const reference of [
      `https://other.example.org/fhir/Patient/${PATIENT}`,
      `Patient/${PATIENT}/_history/1`,
      `Group/${PATIENT}`,
      `patient/${PATIENT}`,
      `Patient/${PATIENT.toUpperCase()}`,
    ]) {
      const response = { ...EXAMPLE, subject: { reference } };
      expect({
        reference,
        status: await status('QuestionnaireResponse/$validate', response, await token(scope, PATIENT)),
      }).toEqual({ reference, status: 403 });
    }
    const noSubject: Record<string, unknown> = { ...EXAMPLE };
    delete noSubject.subject;
    expect(await status('QuestionnaireResponse/$validate', noSubject, await token(scope, PATIENT))).toBe(403);
  });

  test('scopes that look like more than they are grant nothing', async () => {
    for (const scope of [
      'user/**.cruds',
      '*/*.cruds',
      'USER/*.cruds',
      'user/*.CRUDS',
      'user/*.sdurc',
      'user/*.crudsx',
      'user/*.cruds?patient=x',
      'user/*.cruds/extra',
      'user/*.',
      'user/.cruds',
      'user/Questionnaire Response.c',
      'openid fhirUser launch/patient offline_access',
    ]) {
      expect({
        scope,
        status: await status('QuestionnaireResponse/$validate', EXAMPLE, await token(scope)),
      }).toEqual({ scope, status: 403 });
    }
  });

  test('read scopes never carry write powers, and one type never stands for another', async () => {
    const res = await post(
      `${server.base}/QuestionnaireResponse/$re-evaluate`,
      EXAMPLE,
      await token('user/*.rs')
    );
    const text = expectOutcome(res, 403, 'forbidden')[0]!;
    expect(text).toContain('Condition.c');
    expect(
      await status(
        'QuestionnaireResponse/$re-evaluate',
        EXAMPLE,
        await token(`user/QuestionnaireResponse.c ${writes('user').replace('Condition.cu', 'Conditions.cu')}`)
      )
    ).toBe(403);
    expect(
      await status(
        'QuestionnaireResponse/$re-evaluate',
        EXAMPLE,
        await token(
          `user/QuestionnaireResponse.c ${writes('user').replace('user/Condition.cu', 'user/Condition.rs')}`
        )
      )
    ).toBe(403);
  });
});
