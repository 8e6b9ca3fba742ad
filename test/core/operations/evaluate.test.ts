import type { Bundle, Condition, Questionnaire, QuestionnaireResponse, Resource } from '@medplum/fhirtypes';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluateResponse } from '../../../src/core/operations/evaluate';
import type { ReFhirError } from '../../../src/core/outcomes';
import { applyPatch } from '../../helpers/bad-input';
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

  test('one evaluation reads one instant, even from a clock that moves on every read', () => {
    let reads = 0;
    const ticking = (): Date => new Date(Date.UTC(2026, 0, 1, 12, 0, 0) + 1000 * reads++);
    for (const scenario of all.filter((s) => s.name.startsWith('example-'))) {
      const { bundle } = evaluateResponse(scenario.response, testEngine(ticking));
      // every instant the Bundle states: its timestamp, the Provenance's recorded, each authoredOn
      const instants = new Set<string>([bundle.timestamp!]);
      for (const { resource } of bundle.entry ?? []) {
        const r = resource as { recorded?: string; authoredOn?: string; contained?: Resource[] };
        for (const x of [r, ...(r.contained ?? [])] as { recorded?: string; authoredOn?: string }[]) {
          for (const value of [x.recorded, x.authoredOn]) {
            if (value !== undefined) instants.add(new Date(value).toISOString());
          }
        }
      }
      expect(instants.size).toBe(1);
      expect(reads).toBeGreaterThan(0);
    }
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
      // R4: the antegrade volume is part of the PEU result; without it RE stays provisional.
      item: [
        {
          linkId: 'semen-analysis',
          item: [
            { linkId: 'semen-volume', answer: [{ valueDecimal: 0.3 }] },
            {
              linkId: 'who-edition',
              answer: [
                {
                  valueCoding: {
                    system: 'http://re-fhir.org/fhir/CodeSystem/re-answer',
                    code: 'who-2021',
                    display: 'WHO laboratory manual 6th edition (2021)',
                  },
                },
              ],
            },
          ],
        },
        { linkId: 'peu', item: [{ linkId: 'peu-sperm-seen', answer: [{ valueBoolean: true }] }] },
      ],
    });

    const before = evaluateResponse(original, testEngine()).bundle;
    const after = evaluateResponse(amended, testEngine()).bundle;
    const re = (b: Bundle): { url?: string; status?: string } => {
      const entry = (b.entry ?? []).find((e) => e.request?.url?.includes('-R1-re&'));
      return {
        url: entry?.request?.url,
        status: (entry?.resource as { verificationStatus?: { coding?: { code?: string }[] } })
          ?.verificationStatus?.coding?.[0]?.code,
      };
    };
    expect(re(before)).toEqual({
      url: 'Condition?identifier=http://re-fhir.org/fhir/sid/extraction|re-example-turp-tamsulosin-R1-re&subject=Patient/example-turp',
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

describe('a Questionnaire given by the caller', () => {
  const response = JSON.parse(
    readFileSync(join(EXAMPLES, 'QuestionnaireResponse-re-example-turp-tamsulosin.json'), 'utf8')
  ) as QuestionnaireResponse;
  const shipped = testEngine().registry.resolve<Questionnaire>(response.questionnaire!, 'Questionnaire')!;
  const failure = (questionnaire: unknown): { kind?: string; code?: string; expression?: string } => {
    try {
      evaluateResponse(response, testEngine(), { questionnaire: questionnaire as Questionnaire });
    } catch (err) {
      const first = (err as ReFhirError).outcome?.issue.find((i) => i.severity === 'error');
      return { kind: (err as ReFhirError).kind, code: first?.code, expression: first?.expression?.[0] };
    }
    return {};
  };

  test('a copy of the shipped one gives the same Bundle as the shipped one', () => {
    expect(
      evaluateResponse(response, testEngine(), { questionnaire: structuredClone(shipped) }).bundle
    ).toEqual(evaluateResponse(response, testEngine()).bundle);
  });

  test('regression: one that is not valid FHIR is a structural failure, not a TypeError (500)', () => {
    expect(failure({ ...structuredClone(shipped), contained: 'x' })).toEqual({
      kind: 'structural',
      code: 'structure',
      expression: 'Questionnaire.contained',
    });
    const unknownType = structuredClone(shipped);
    unknownType.item![0]!.item![0]!.type = 'constructor' as 'boolean';
    expect(failure(unknownType)).toMatchObject({ kind: 'structural', code: 'structure' });
  });

  test('regression: an invalid output from its templates is the caller’s fault (conformance, 422), not ours', () => {
    const noCode = structuredClone(shipped);
    delete (noCode.contained![0] as Condition).code;
    expect(failure(noCode)).toEqual({
      kind: 'conformance',
      code: 'processing',
      expression: 'Condition.code',
    });
  });
});

describe('a response that supports nothing to write', () => {
  // No symptom, no risk factor, no score, no investigation: nothing to extract and no rule applies.
  const nothing = applyPatch(scenarios().find((s) => s.name === 'no-findings')!.response, [
    { op: 'remove-item', linkId: 'shim-total' },
    { op: 'remove-item', linkId: 'pedt-total' },
  ]);

  test('regression: gives an empty transaction and says so, not a Provenance without a target (500)', () => {
    const evaluation = evaluateResponse(nothing, testEngine());
    expect(evaluation.bundle).toEqual({
      resourceType: 'Bundle',
      type: 'transaction',
      timestamp: '2026-11-27T09:00:00.000Z',
    });
    expect(testEngine().validator.validate(evaluation.bundle).issues).toEqual([]);
    expect(evaluation.issues.map((i) => i.details?.text)).toContain(
      'The response supports no resource to write: the transaction is empty'
    );
  });
});

describe('who recorded the investigations', () => {
  const AUTHOR = 'http://hl7.org/fhir/StructureDefinition/questionnaireresponse-author';
  const confirmed = scenarios().find((s) => s.name === 'example-diabetic-confirmed')!.response;
  const authors = (...references: string[]): QuestionnaireResponse =>
    applyPatch(confirmed, [
      {
        op: 'set-item',
        linkId: 'investigations',
        key: 'extension',
        value: references.map((reference) => ({ url: AUTHOR, valueReference: { reference } })),
      },
    ]);
  const reStatus = (response: QuestionnaireResponse): string | undefined =>
    evaluateResponse(response, testEngine())
      .bundle.entry?.map((e) => e.resource as Condition)
      .find((c) => c.resourceType === 'Condition' && c.code?.coding?.some((k) => k.code === 'N53.14'))
      ?.verificationStatus?.coding?.[0]?.code;

  test('regression: two author extensions on the item are every author, not a failure of our content (500)', () => {
    expect(reStatus(confirmed)).toBe('confirmed');
    expect(reStatus(authors('Practitioner/dr-2', 'PractitionerRole/dr-2-urology'))).toBe('confirmed');
    // A patient among the authors: the PEU finding is no longer a practitioner's, so RE stays provisional.
    expect(reStatus(authors('Practitioner/dr-2', 'Patient/example-diabetic'))).toBe('provisional');
    expect(reStatus(authors('Patient/example-diabetic'))).toBe('provisional');
  });
});
