import fc from 'fast-check';
import { OperationOutcomeError, validateResource } from '@medplum/core';
import type { OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { createMedplumTier } from '../../../src/core/validation/medplum';
import { deriveProfile, r4Definitions } from '../../helpers/validation';
import { shippedProfiles } from '../../helpers/content';
import { mutate } from '../../helpers/mutate';
import type { Mutation } from '../../helpers/mutate';

const PATIENT = 'http://hl7.org/fhir/StructureDefinition/Patient';

/** Test profiles shaped like the project's (content-design.md), plus every shipped profile. */
function profiles(): StructureDefinition[] {
  return [
    deriveProfile('Condition', 're-test-condition', {
      'Condition.clinicalStatus': { min: 1 },
      'Condition.verificationStatus': { min: 1 },
      'Condition.category': { min: 1 },
      'Condition.code': { min: 1 },
      'Condition.subject': { type: [{ code: 'Reference', targetProfile: [PATIENT] }] },
      'Condition.onset[x]': { type: [{ code: 'dateTime' }], min: 1 },
      'Condition.evidence': { min: 1 },
      'Condition.evidence.detail': { min: 1 },
      'Condition.note': { max: '0' },
      'Condition.identifier': { min: 1 },
    }),
    deriveProfile('CarePlan', 're-test-careplan', {
      'CarePlan.subject': { type: [{ code: 'Reference', targetProfile: [PATIENT] }] },
      'CarePlan.title': { min: 1 },
      'CarePlan.activity': { min: 1 },
      'CarePlan.activity.reference': { min: 1 },
    }),
    deriveProfile('QuestionnaireResponse', 're-test-qr', {
      'QuestionnaireResponse.questionnaire': { min: 1 },
      'QuestionnaireResponse.subject': { min: 1, type: [{ code: 'Reference', targetProfile: [PATIENT] }] },
      'QuestionnaireResponse.authored': { min: 1 },
    }),
    ...shippedProfiles().filter((p) => p.type !== 'Extension'),
  ];
}

const seeds: Record<string, Resource> = {
  // Each seed satisfies both the test profiles and the shipped ones, so mutations yield both outcomes.
  Condition: {
    resourceType: 'Condition',
    extension: [
      {
        url: 'http://re-fhir.org/fhir/StructureDefinition/re-rule',
        valueCoding: { system: 'http://re-fhir.org/fhir/CodeSystem/re-rule', code: 'R1' },
      },
    ],
    identifier: [{ system: 'http://re-fhir.org/fhir/sid/extraction', value: 'qr-1-R1-re' }],
    clinicalStatus: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }],
    },
    verificationStatus: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'provisional' }],
    },
    category: [
      {
        coding: [
          { system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'problem-list-item' },
        ],
      },
    ],
    code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', version: '2021', code: 'N53.14' }] },
    subject: { reference: 'Patient/p1' },
    onsetDateTime: '2025-01-02',
    recordedDate: '2026-11-27T10:00:00Z',
    evidence: [{ detail: [{ reference: 'QuestionnaireResponse/qr-1' }] }],
  },
  CarePlan: {
    resourceType: 'CarePlan',
    extension: [
      {
        url: 'http://re-fhir.org/fhir/StructureDefinition/re-rule',
        valueCoding: { system: 'http://re-fhir.org/fhir/CodeSystem/re-rule', code: 'R1' },
      },
    ],
    identifier: [{ system: 'http://re-fhir.org/fhir/sid/extraction', value: 'qr-1-careplan' }],
    instantiatesCanonical: ['http://re-fhir.org/fhir/PlanDefinition/re-management-pathway|0.1.0'],
    category: [{ text: 'assess-plan' }],
    text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">RE work-up</div>' },
    status: 'active',
    intent: 'plan',
    title: 'RE work-up',
    subject: { reference: 'Patient/p1' },
    activity: [{ reference: { reference: 'ServiceRequest/s1' } }],
  },
  QuestionnaireResponse: {
    resourceType: 'QuestionnaireResponse',
    questionnaire: 'http://re-fhir.org/fhir/Questionnaire/re-evaluation',
    status: 'completed',
    subject: { reference: 'Patient/p1' },
    authored: '2026-11-27T10:00:00Z',
    item: [{ linkId: 'dry-orgasm', answer: [{ valueBoolean: true }] }],
  },
};

const mutationArb = fc.array(
  fc.record({
    at: fc.nat(),
    op: fc.constantFrom<Mutation['op']>('delete', 'set', 'add'),
    value: fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom('Group/1', { reference: 'Group/g' }, '2025-13-01', [], {}, { text: 'x' }, 'bad id')
    ),
    name: fc.constantFrom('onsetString', 'detail', 'reference', 'foo', 'note', 'code', 'system', 'text'),
  }),
  { maxLength: 4 }
);

function official(resource: Resource, profile: StructureDefinition): OperationOutcomeIssue[] {
  try {
    return validateResource(resource, { profile });
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      return err.outcome.issue ?? [];
    }
    return [
      {
        severity: 'error',
        code: 'structure',
        details: { text: `Resource could not be validated: ${(err as Error).message}` },
      },
    ];
  }
}

function comparable(issues: OperationOutcomeIssue[]): unknown[] {
  return issues.map((i) => ({
    severity: i.severity,
    code: i.code,
    text: i.details?.text,
    expression: i.expression,
  }));
}

describe('Medplum tier', () => {
  const tier = createMedplumTier(r4Definitions());

  test('the cached profile path gives exactly the issues of validateResource(r, { profile }) for generated resources', () => {
    for (const profile of profiles()) {
      const seed = seeds[profile.type!];
      if (!seed) {
        continue;
      }
      fc.assert(
        fc.property(mutationArb, (mutations) => {
          const resource = mutate(seed, mutations);
          expect(comparable(tier.validateProfile(resource, profile))).toEqual(
            comparable(official(resource, profile))
          );
        }),
        { numRuns: 300 }
      );
    }
  });

  test('the generated resources include valid and invalid ones for each profile', () => {
    for (const profile of profiles()) {
      const seed = seeds[profile.type!];
      if (!seed) {
        continue;
      }
      const samples = fc.sample(mutationArb, { numRuns: 200, seed: 42 }).map((m) => mutate(seed, m));
      const failing = samples.filter((r) =>
        tier.validateProfile(r, profile).some((i) => i.severity === 'error')
      );
      expect(failing.length).toBeGreaterThan(20);
      expect(samples.length - failing.length).toBeGreaterThan(20);
    }
  });

  test('a profile that narrows onset[x] gives the same result as Medplum, which ignores the narrowing', () => {
    const profile = profiles()[0]!;
    const resource = { ...seeds.Condition!, onsetDateTime: undefined, onsetString: 'last year' } as Resource;
    expect(comparable(tier.validateProfile(resource, profile))).toEqual(
      comparable(official(resource, profile))
    );
  });

  test('registering a profile does not change base validation of its backbone elements', () => {
    const profile = profiles()[0]!;
    const resource = { ...seeds.Condition!, evidence: [{ code: [{ text: 'cloudy urine' }] }] } as Resource;
    tier.validateProfile(resource, profile);
    expect(tier.validateBase(resource)).toEqual([]);
  });

  test("reports a missing profile element with Medplum's text and path", () => {
    const profile = profiles()[0]!;
    const resource = { ...seeds.Condition!, recordedDate: undefined, code: undefined } as Resource;
    expect(comparable(tier.validateProfile(resource, profile))).toEqual([
      {
        severity: 'error',
        code: 'structure',
        text: 'Missing required property',
        expression: ['Condition.code'],
      },
    ]);
  });

  test('reports an unknown resource type as an issue instead of throwing', () => {
    expect(comparable(tier.validateBase({ resourceType: 'Nonsense' } as unknown as Resource))).toEqual([
      {
        severity: 'error',
        code: 'structure',
        text: 'Unknown resource type "Nonsense"',
        expression: ['Nonsense'],
      },
    ]);
  });
});
