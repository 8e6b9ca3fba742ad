import type { Bundle, CarePlan, PlanDefinition, QuestionnaireResponse } from '@medplum/fhirtypes';
import { MANAGEMENT_PATHWAY } from '../../../src/core/constants';
import { applyOperation } from '../../../src/core/operations/apply';
import { evaluateResponse } from '../../../src/core/operations/evaluate';
import { appConfigFromEnv } from '../../../src/http/config';
import { testEngine } from '../../helpers/engine';
import type { TestServer } from '../../helpers/http';
import { expectOutcome, post, startServer } from '../../helpers/http';
import { counterIds } from '../../helpers/ids';
import { scenarios } from '../../helpers/scenarios';

const RESPONSE = scenarios().find((s) => s.name === 'example-turp-tamsulosin')!
  .response as QuestionnaireResponse;
const SUBJECT = RESPONSE.subject!.reference!;

let server: TestServer;
let ids = counterIds();

beforeAll(async () => {
  server = await startServer({ newId: () => ids(), inlineDefinitions: true });
});
afterAll(() => server.close());
beforeEach(() => {
  ids = counterIds();
});

/** The CPG data Bundle for the response: the completed response and the resources extracted from it. */
function dataFor(response: QuestionnaireResponse): Bundle {
  const evaluation = evaluateResponse(response, testEngine());
  return {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [
      { fullUrl: 'urn:uuid:00000000-0000-4000-8000-0000000000aa', resource: evaluation.response },
      ...(evaluation.bundle.entry ?? [])
        .filter((e) => ['Condition', 'Observation'].includes(e.resource?.resourceType ?? ''))
        .map((e) => ({ fullUrl: e.fullUrl, resource: e.resource })),
    ],
  };
}

const params = (...parameter: object[]): object => ({ resourceType: 'Parameters', parameter });

describe('PlanDefinition/$apply', () => {
  test('instance level with subject and data returns the bare CarePlan the library returns', async () => {
    const data = dataFor(RESPONSE);
    const res = await post<CarePlan>(
      `${server.base}/PlanDefinition/re-management-pathway/$apply`,
      params({ name: 'subject', valueString: SUBJECT }, { name: 'data', resource: data })
    );
    const expected = applyOperation(MANAGEMENT_PATHWAY, { subject: SUBJECT, data }, testEngine()).carePlan;
    expect(res.status).toBe(200);
    expect(res.body.resourceType).toBe('CarePlan');
    expect(res.body).toEqual(expected);
    expect(res.body.contained?.some((r) => r.resourceType === 'RequestGroup')).toBe(true);
  });

  test('type level by url and version (CPG) equals instance level', async () => {
    const [url, version] = MANAGEMENT_PATHWAY.split('|');
    const data = dataFor(RESPONSE);
    const byUrl = await post<CarePlan>(
      `${server.base}/PlanDefinition/$apply`,
      params(
        { name: 'url', valueCanonical: url },
        { name: 'version', valueString: version },
        { name: 'subject', valueString: SUBJECT },
        { name: 'data', resource: data }
      )
    );
    ids = counterIds();
    const byId = await post<CarePlan>(
      `${server.base}/PlanDefinition/re-management-pathway/$apply`,
      params({ name: 'subject', valueString: SUBJECT }, { name: 'data', resource: data })
    );
    expect(byUrl.status).toBe(200);
    expect(byUrl.body).toEqual(byId.body);
  });

  test('type level with an inline planDefinition, and the R4 string form of userType', async () => {
    const engine = testEngine();
    const planDefinition = engine.registry.resolve<PlanDefinition>(MANAGEMENT_PATHWAY, 'PlanDefinition')!;
    const res = await post<CarePlan>(
      `${server.base}/PlanDefinition/$apply`,
      params(
        { name: 'planDefinition', resource: planDefinition },
        { name: 'subject', valueString: SUBJECT },
        { name: 'userType', valueString: 'physician' },
        { name: 'practitioner', valueString: 'Practitioner/p1' }
      )
    );
    expect(res.status).toBe(200);
    expect(res.body.instantiatesCanonical).toEqual([MANAGEMENT_PATHWAY]);
    expect(res.body.subject).toEqual({ reference: SUBJECT });
  });

  test('an inline planDefinition is refused unless INLINE_DEFINITIONS allows it (its expressions run here)', async () => {
    const planDefinition = testEngine().registry.resolve<PlanDefinition>(
      MANAGEMENT_PATHWAY,
      'PlanDefinition'
    )!;
    const plain = await startServer(appConfigFromEnv({ INLINE_DEFINITIONS: 'false' }));
    try {
      const texts = expectOutcome(
        await post(
          `${plain.base}/PlanDefinition/$apply`,
          params(
            { name: 'planDefinition', resource: planDefinition },
            { name: 'subject', valueString: SUBJECT }
          )
        ),
        400,
        'not-supported'
      );
      expect(texts.join(' ')).toContain('INLINE_DEFINITIONS');
    } finally {
      await plain.close();
    }
  });

  test('unknown id, unknown url or unknown version is 404', async () => {
    const subject = { name: 'subject', valueString: SUBJECT };
    expectOutcome(await post(`${server.base}/PlanDefinition/nope/$apply`, params(subject)), 404, 'not-found');
    expectOutcome(
      await post(
        `${server.base}/PlanDefinition/$apply`,
        params(subject, { name: 'url', valueUri: 'http://example.org/pd' })
      ),
      404,
      'not-found'
    );
    expectOutcome(
      await post(
        `${server.base}/PlanDefinition/$apply`,
        params(
          subject,
          { name: 'url', valueUri: MANAGEMENT_PATHWAY.split('|')[0] },
          { name: 'version', valueString: '9' }
        )
      ),
      404,
      'not-found'
    );
  });

  test('no subject, two subjects, no plan, or a plan at instance level is 400', async () => {
    const instance = `${server.base}/PlanDefinition/re-management-pathway/$apply`;
    expectOutcome(await post(instance, params()), 400, 'required');
    expectOutcome(
      await post(
        instance,
        params({ name: 'subject', valueString: 'Patient/a' }, { name: 'subject', valueString: 'Patient/b' })
      ),
      400,
      'not-supported'
    );
    expectOutcome(
      await post(`${server.base}/PlanDefinition/$apply`, params({ name: 'subject', valueString: SUBJECT })),
      400,
      'required'
    );
    expectOutcome(
      await post(
        instance,
        params({ name: 'subject', valueString: SUBJECT }, { name: 'url', valueUri: MANAGEMENT_PATHWAY })
      ),
      400,
      'not-supported'
    );
  });

  test('an inline PlanDefinition that is not valid FHIR is 400; a data Bundle that is not valid FHIR is 400', async () => {
    expect(
      (
        await post(
          `${server.base}/PlanDefinition/$apply`,
          params(
            { name: 'planDefinition', resource: { resourceType: 'PlanDefinition', status: 3 } },
            { name: 'subject', valueString: SUBJECT }
          )
        )
      ).status
    ).toBe(400);
    expect(
      (
        await post(
          `${server.base}/PlanDefinition/re-management-pathway/$apply`,
          params(
            { name: 'subject', valueString: SUBJECT },
            { name: 'data', resource: { resourceType: 'Bundle', type: 'nope' } }
          )
        )
      ).status
    ).toBe(400);
  });

  test('regression: a valid inline PlanDefinition that cannot give a valid CarePlan is 422, not 500', async () => {
    // An action with only a title is valid in a PlanDefinition, but its RequestGroup action would have
    // neither a resource nor actions (rqg-1).
    const textOnly: PlanDefinition = {
      resourceType: 'PlanDefinition',
      status: 'active',
      title: 'Text only',
      action: [{ title: 'Reassure' }],
    };
    const res = await post(
      `${server.base}/PlanDefinition/$apply`,
      params({ name: 'planDefinition', resource: textOnly }, { name: 'subject', valueString: SUBJECT })
    );
    expect(expectOutcome(res, 422, 'processing')[0]).toContain('rqg-1');
    expect(server.logs.filter((l) => l.msg === 'request failed')).toEqual([]);
  });

  test('a bare resource instead of Parameters is 400', async () => {
    expectOutcome(await post(`${server.base}/PlanDefinition/$apply`, RESPONSE), 400, 'structure');
  });
});
