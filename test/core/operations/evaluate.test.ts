import type { Bundle, Resource } from '@medplum/fhirtypes';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluateResponse } from '../../../src/core/operations/evaluate';
import { testEngine } from '../../helpers/engine';
import { golden, scenarios } from '../../helpers/scenarios';

const EXAMPLES = join(__dirname, '../../../profiles/examples');

describe('golden clinical scenarios', () => {
  const all = scenarios();

  test('there are at least twelve, including the four shipped examples unchanged', () => {
    expect(all.length).toBeGreaterThanOrEqual(12);
    for (const name of ['turp-tamsulosin', 'diabetic-confirmed', 'anejaculation', 'distress-pe']) {
      const scenario = all.find((s) => s.name === `example-${name}`);
      const shipped = JSON.parse(
        readFileSync(join(EXAMPLES, `QuestionnaireResponse-re-example-${name}.json`), 'utf8')
      );
      expect(scenario?.response).toEqual(shipped);
    }
  });

  test.each(all.map((s) => [s.name, s]))(
    '%s gives exactly the expected transaction Bundle',
    (_name, scenario) => {
      const deps = testEngine();
      const { bundle } = evaluateResponse(scenario.response, deps);
      expect(bundle).toEqual(golden(scenario, bundle));
    }
  );

  test.each(all.map((s) => [s.name, s]))(
    '%s: every generated resource validates in every tier',
    (_name, scenario) => {
      const deps = testEngine();
      const { bundle } = evaluateResponse(scenario.response, deps);
      for (const entry of bundle.entry ?? []) {
        const resource = entry.resource as Resource;
        const profiles = resource.meta?.profile ?? [];
        for (const profile of profiles.length > 0 ? profiles : [undefined]) {
          const result = deps.validator.validate(resource, profile ? { profile } : {});
          expect({
            fullUrl: entry.fullUrl,
            errors: result.issues.filter((i) => i.severity === 'error'),
          }).toEqual({
            fullUrl: entry.fullUrl,
            errors: [],
          });
        }
      }
    }
  );

  test('the same response evaluated twice gives the same Bundle (deterministic)', () => {
    const [first] = all;
    const a: Bundle = evaluateResponse(first!.response, testEngine()).bundle;
    const b: Bundle = evaluateResponse(first!.response, testEngine()).bundle;
    expect(a).toEqual(b);
  });
});

describe('amendments', () => {
  test('an amended response with a positive PEU updates the same Conditions and plan, now confirmed', () => {
    const original = scenarios().find((s) => s.name === 'example-turp-tamsulosin')!.response;
    const amended = structuredClone(original);
    amended.status = 'amended';
    amended.authored = '2026-11-25T10:00:00Z';
    amended.item!.push({
      extension: [
        {
          url: 'http://hl7.org/fhir/StructureDefinition/questionnaireresponse-author',
          valueReference: { reference: 'Practitioner/example-urologist' },
        },
      ],
      linkId: 'investigations',
      item: [{ linkId: 'peu', item: [{ linkId: 'peu-sperm-seen', answer: [{ valueBoolean: true }] }] }],
    });

    const before = evaluateResponse(original, testEngine()).bundle;
    const after = evaluateResponse(amended, testEngine()).bundle;
    const re = (b: Bundle): { url?: string; status?: string } => {
      const entry = (b.entry ?? []).find((e) => e.request?.url?.endsWith('-R1-re'));
      return {
        url: entry?.request?.url,
        status: (entry?.resource as { verificationStatus?: { coding?: { code?: string }[] } })
          ?.verificationStatus?.coding?.[0]?.code,
      };
    };
    expect(re(before)).toEqual({
      url: 'Condition?identifier=http://re-fhir.org/fhir/sid/extraction|re-example-turp-tamsulosin-R1-re',
      status: 'provisional',
    });
    expect(re(after)).toEqual({ url: re(before).url, status: 'confirmed' });

    // The same keys for the plan: the CarePlan and RequestGroup are updated in place.
    const planKeys = (b: Bundle): (string | undefined)[] =>
      (b.entry ?? [])
        .filter((e) => ['CarePlan', 'RequestGroup'].includes(e.resource!.resourceType))
        .map((e) => e.request?.url);
    expect(planKeys(after)).toEqual(planKeys(before));
    // A new Provenance records the second extraction; the first stays.
    const provenance = (b: Bundle): string | undefined =>
      b.entry?.find((e) => e.resource?.resourceType === 'Provenance')?.request?.url;
    expect(provenance(after)).not.toEqual(provenance(before));
  });
});

describe('a response with nothing to extract', () => {
  test('gives an empty transaction without a Provenance, and says so', () => {
    const none = scenarios().find((s) => s.name === 'no-findings')!.response;
    const answeredOnlyRequired = structuredClone(none);
    answeredOnlyRequired.item = answeredOnlyRequired.item!.filter((i) => i.linkId !== 'associated');
    answeredOnlyRequired.item.push({
      linkId: 'associated',
      item: [{ linkId: 'bother', answer: [{ valueBoolean: false }] }],
    });
    const result = evaluateResponse(answeredOnlyRequired, testEngine());
    expect(result.bundle).toEqual({
      resourceType: 'Bundle',
      type: 'transaction',
      timestamp: '2026-11-27T09:00:00.000Z',
    });
    expect(result.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          details: { text: 'Nothing to extract from this response: the Bundle is empty' },
        }),
      ])
    );
  });
});
