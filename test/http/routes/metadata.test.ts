import type { Bundle, CapabilityStatement, OperationDefinition } from '@medplum/fhirtypes';
import type { ServedType } from '../../../src/http/capability';
import {
  capabilityStatement,
  meetsFormResponseManager,
  SDC_FORM_RESPONSE_MANAGER,
} from '../../../src/http/capability';
import { CONFORMANCE_TYPES } from '../../../src/http/served-content';
import { AUDIENCE, ISSUER, testKey } from '../../helpers/auth';
import { testEngine } from '../../helpers/engine';
import type { TestServer } from '../../helpers/http';
import { expectOutcome, request, startServer } from '../../helpers/http';

let server: TestServer;
let statement: CapabilityStatement;

beforeAll(async () => {
  server = await startServer();
  statement = (await request<CapabilityStatement>(`${server.base}/metadata`)).body;
});
afterAll(() => server.close());

const resource = (
  type: string
): NonNullable<CapabilityStatement['rest']>[number]['resource'] extends (infer R)[] | undefined
  ? R | undefined
  : never => statement.rest?.[0]?.resource?.find((r) => r.type === type);

describe('GET metadata', () => {
  test('is a CapabilityStatement that validates against R4 with no errors', () => {
    const result = testEngine().validator.validate(statement);
    expect(result.issues.filter((i) => i.severity === 'error' || i.severity === 'fatal')).toEqual([]);
    expect(statement).toMatchObject({ kind: 'instance', fhirVersion: '4.0.1', status: 'active' });
    expect(statement.format).toEqual(['application/fhir+json', 'json']);
    expect(statement.implementation?.url).toBe(server.base);
    expect(statement.date).toBe(testEngine().clock().toISOString());
  });

  test('lists every served conformance type with read, search-type and its search parameters', () => {
    for (const type of CONFORMANCE_TYPES) {
      const entry = resource(type);
      expect(entry?.interaction?.map((i) => i.code)).toEqual(['read', 'search-type']);
      expect(entry?.searchParam?.map((p) => p.name)).toEqual(['_id', 'url', 'version', 'name', 'status']);
      expect(
        entry?.searchParam?.every((p) => p.definition?.startsWith('http://hl7.org/fhir/SearchParameter/'))
      ).toBe(true);
    }
  });

  test('declares each operation with its OperationDefinition canonical', () => {
    const ops = Object.fromEntries(
      (statement.rest?.[0]?.resource ?? []).map((r) => [
        r.type,
        (r.operation ?? []).map((o) => `${o.name} ${o.definition}`),
      ])
    );
    expect(ops.QuestionnaireResponse).toEqual([
      'validate http://hl7.org/fhir/OperationDefinition/Resource-validate',
      'extract http://hl7.org/fhir/uv/sdc/OperationDefinition/QuestionnaireResponse-extract',
      're-evaluate http://re-fhir.org/fhir/OperationDefinition/re-evaluate',
    ]);
    expect(ops.PlanDefinition).toEqual([
      'apply http://re-fhir.org/fhir/OperationDefinition/re-plandefinition-apply',
    ]);
    expect(ops.ValueSet).toEqual([
      'expand http://hl7.org/fhir/OperationDefinition/ValueSet-expand',
      'validate-code http://hl7.org/fhir/OperationDefinition/ValueSet-validate-code',
    ]);
    expect(ops.CodeSystem).toEqual([
      'lookup http://hl7.org/fhir/OperationDefinition/CodeSystem-lookup',
      'validate-code http://hl7.org/fhir/OperationDefinition/CodeSystem-validate-code',
    ]);
  });

  test("our own OperationDefinitions are served and match the operations' codes and levels", async () => {
    for (const [canonical, code, type, instance] of [
      [
        'http://re-fhir.org/fhir/OperationDefinition/re-evaluate',
        're-evaluate',
        'QuestionnaireResponse',
        false,
      ],
      [
        'http://re-fhir.org/fhir/OperationDefinition/re-plandefinition-apply',
        'apply',
        'PlanDefinition',
        true,
      ],
    ] as const) {
      const found = await request<Bundle>(
        `${server.base}/OperationDefinition?url=${encodeURIComponent(canonical)}`
      );
      const op = found.body.entry?.[0]?.resource as OperationDefinition;
      expect({ code: op.code, resource: op.resource, type: op.type, instance: op.instance }).toEqual({
        code,
        resource: [type],
        type: true,
        instance,
      });
    }
  });

  test('does not claim SDC Form Response Manager: QuestionnaireResponses are not stored here', () => {
    expect(statement.instantiates).toBeUndefined();
    expect(resource('QuestionnaireResponse')?.interaction).toBeUndefined();
  });

  test('says there is no authentication when auth is off', () => {
    expect(statement.rest?.[0]?.security).toEqual({
      cors: false,
      description: 'No authentication: this server is configured for local use only.',
    });
  });

  test('POST metadata is 405', async () => {
    expectOutcome(await request(`${server.base}/metadata`, { method: 'POST' }), 405, 'not-supported');
  });
});

describe('capabilityStatement', () => {
  test('claims SDC Form Response Manager exactly when QuestionnaireResponse create, update, read and search are served', () => {
    const all = ['create', 'update', 'read', 'search-type'];
    const served = (interactions: string[]): ServedType[] => [
      { type: 'QuestionnaireResponse', interactions: interactions as 'read'[] },
    ];
    expect(meetsFormResponseManager(served(all))).toBe(true);
    for (const missing of all) {
      expect(meetsFormResponseManager(served(all.filter((i) => i !== missing)))).toBe(false);
    }
    const cs = capabilityStatement(served(all), {
      baseUrl: 'http://x/fhir',
      date: '2026-11-27',
      version: '1',
      cors: false,
      upstream: false,
    });
    expect(cs.instantiates).toEqual([SDC_FORM_RESPONSE_MANAGER]);
  });
});

describe('with auth configured', () => {
  test('declares SMART-on-FHIR security with the OAuth endpoints, and still validates', async () => {
    const key = await testKey('k');
    const authServer = await startServer({
      auth: {
        issuer: ISSUER,
        audience: AUDIENCE,
        publicKey: key.publicPem,
        authorizeUrl: `${ISSUER}/authorize`,
        tokenUrl: `${ISSUER}/token`,
      },
      corsOrigins: ['https://app.example.org'],
    });
    try {
      const cs = (await request<CapabilityStatement>(`${authServer.base}/metadata`)).body;
      expect(cs.rest?.[0]?.security).toMatchObject({
        cors: true,
        service: [
          {
            coding: [
              {
                system: 'http://terminology.hl7.org/CodeSystem/restful-security-service',
                code: 'SMART-on-FHIR',
              },
            ],
          },
        ],
        extension: [
          {
            url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
            extension: [
              { url: 'authorize', valueUri: `${ISSUER}/authorize` },
              { url: 'token', valueUri: `${ISSUER}/token` },
            ],
          },
        ],
      });
      const result = testEngine().validator.validate(cs);
      expect(result.issues.filter((i) => i.severity === 'error')).toEqual([]);
      const smart = await request<Record<string, unknown>>(
        `${authServer.base}/.well-known/smart-configuration`
      );
      expect(smart.body).toMatchObject({
        issuer: ISSUER,
        authorization_endpoint: `${ISSUER}/authorize`,
        token_endpoint: `${ISSUER}/token`,
      });
    } finally {
      await authServer.close();
    }
  });

  test('without auth there is no SMART configuration (404)', async () => {
    expectOutcome(await request(`${server.base}/.well-known/smart-configuration`), 404, 'not-found');
  });
});
