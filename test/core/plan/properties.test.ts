import fc from 'fast-check';
import type {
  ActivityDefinition,
  PlanDefinition,
  PlanDefinitionAction,
  RequestGroupAction,
  Resource,
} from '@medplum/fhirtypes';
import { shippedRegistry } from '../../../src/core/conformance/registry';
import { applyPlanDefinition, containedCarePlan, liftedEntries } from '../../../src/core/plan';
import type { AppliedPlan } from '../../../src/core/plan';
import { caseArb } from './case-arbitrary';
import { caseData } from './cases';
import type { CaseSpec } from './cases';
import { counterIds, depsOver, fhirpath, fixedClock } from './support';

const RULE = 'http://re-fhir.org/fhir/StructureDefinition/re-rule';

/** Every `resource.reference` in the RequestGroup tree. */
function referencesIn(actions: readonly RequestGroupAction[] | undefined): string[] {
  return (actions ?? []).flatMap((a) => [
    ...(a.resource?.reference ? [a.resource.reference] : []),
    ...referencesIn(a.action),
  ]);
}

/** The structural promises every applied plan keeps, whatever the definitions or data. */
function expectWellFormed(applied: AppliedPlan): void {
  const references = referencesIn(applied.requestGroup.action).filter((r) => r.startsWith('urn:uuid:'));
  const requestUrls = applied.requests.map((r) => `urn:uuid:${r.id}`);
  // Each request sits in the RequestGroup exactly once, and every grouped reference is a request.
  expect([...references].sort()).toEqual([...requestUrls].sort());
  for (const request of applied.requests) {
    expect((request as { status?: string }).status).toBe('draft');
    if (request.resourceType !== 'CommunicationRequest') {
      expect((request as { intent?: string }).intent).toBe('option');
    }
  }
  expect(applied.carePlan.activity).toEqual([
    { reference: { reference: `urn:uuid:${applied.requestGroup.id}` } },
  ]);
  const contained = containedCarePlan(applied);
  const text = JSON.stringify({ ...contained, contained: undefined });
  const containedText = JSON.stringify(contained.contained);
  for (const resource of contained.contained ?? []) {
    // dom-3: every contained resource is referenced from the container or another contained resource.
    expect(`${text}${containedText.replace(`"id":"${resource.id}"`, '')}`).toContain(`"#${resource.id}"`);
  }
  expect(JSON.stringify(contained)).not.toMatch(
    new RegExp(requestUrls.map((u) => u.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|') || '^$')
  );
  expect(liftedEntries(applied)).toHaveLength(2 + applied.goals.length + applied.requests.length);
}

describe('generic processor properties', () => {
  const definitions: ActivityDefinition[] = (
    ['ServiceRequest', 'MedicationRequest', 'CommunicationRequest', 'Task'] as const
  ).map((kind) => ({
    resourceType: 'ActivityDefinition',
    url: `http://example.org/ActivityDefinition/${kind}`,
    status: 'active',
    kind,
    code: { text: kind },
    ...(kind === 'MedicationRequest' ? { productCodeableConcept: { text: 'drug' } } : {}),
  }));
  const nested: PlanDefinition = {
    resourceType: 'PlanDefinition',
    url: 'http://example.org/PlanDefinition/nested',
    status: 'active',
    action: [
      { title: 'n1', definitionCanonical: 'http://example.org/ActivityDefinition/Task' },
      { title: 'n2', condition: [{ kind: 'applicability', expression: fhirpath('false') }] },
    ],
  };
  const conditionArb = fc.constantFrom(
    fhirpath('true'),
    fhirpath('false'),
    fhirpath("'text'"),
    fhirpath('(1 | 2)'),
    fhirpath('item.where('),
    fhirpath('%undefinedVariable'),
    fhirpath('%data.entry.resource.ofType(QuestionnaireResponse).exists()'),
    { language: 'text/cql' as const, expression: 'Needs It' }
  );
  const dynamicValueArb = fc.constantFrom(
    { path: 'reasonReference.reference', expression: fhirpath("('urn:uuid:a' | 'urn:uuid:b')") },
    { path: 'note.text', expression: fhirpath("'hello'") },
    { path: 'description', expression: fhirpath("'x'") },
    { path: 'status', expression: fhirpath("'active'") },
    { path: 'intent', expression: fhirpath("'order'") },
    { path: 'no.such.path', expression: fhirpath("'x'") },
    { path: 'code.text', expression: fhirpath("('a' | 'b')") },
    { path: 'where(x)', expression: fhirpath("'x'") },
    { path: 'note[7].text', expression: fhirpath("'x'") }
  );
  const definitionArb = fc.option(
    fc.constantFrom(
      ...definitions.map((d) => d.url!),
      nested.url!,
      'http://example.org/ActivityDefinition/unknown'
    ),
    { nil: undefined }
  );
  const actionArb: fc.Memo<PlanDefinitionAction> = fc.memo(
    (depth) =>
      fc.record(
        {
          title: fc.string({ maxLength: 12 }),
          condition: fc.array(
            conditionArb.map((expression) => ({ kind: 'applicability' as const, expression })),
            { maxLength: 2 }
          ),
          definitionCanonical: definitionArb,
          dynamicValue: fc.array(dynamicValueArb, { maxLength: 2 }),
          action: depth > 1 ? fc.array(actionArb(depth - 1), { maxLength: 3 }) : fc.constant([]),
        },
        { requiredKeys: ['title'] }
      ) as fc.Arbitrary<PlanDefinitionAction>
  );

  test('random definitions never throw and always yield a well-formed plan', () => {
    fc.assert(
      fc.property(fc.array(actionArb(3), { maxLength: 4 }), (actions) => {
        const plan: PlanDefinition = {
          resourceType: 'PlanDefinition',
          url: 'http://example.org/PlanDefinition/random',
          status: 'active',
          action: actions,
        };
        const applied = applyPlanDefinition(
          plan,
          { subject: 'Patient/p' },
          depsOver([...definitions, nested])
        );
        expectWellFormed(applied);
      }),
      { numRuns: 300 }
    );
  });
});

describe('management content properties', () => {
  const registry = shippedRegistry();
  const apply = (spec: CaseSpec): AppliedPlan =>
    applyPlanDefinition(
      'http://re-fhir.org/fhir/PlanDefinition/re-management-pathway',
      { subject: 'Patient/p1', data: caseData(spec) },
      { resolve: (c) => registry.resolve(c), clock: fixedClock, newId: counterIds() },
      { carePlanExtensionUrls: [RULE], requestExtensionUrls: [RULE] }
    );
  const rulesIn = (actions: readonly RequestGroupAction[] | undefined): string[] =>
    (actions ?? []).flatMap((a) => [
      ...(a.extension ?? []).filter((e) => e.url === RULE).map((e) => e.valueCoding!.code!),
      ...rulesIn(a.action),
    ]);
  const medications = (applied: AppliedPlan): string[] =>
    applied.requests
      .filter((r: Resource) => r.resourceType === 'MedicationRequest')
      .map((r) => (r as { medicationCodeableConcept: { text: string } }).medicationCodeableConcept.text);

  test('random evaluations never throw, raise no warnings or errors, and keep the plan well formed', () => {
    fc.assert(
      fc.property(caseArb, (spec) => {
        const applied = apply(spec);
        expect(applied.issues.filter((i) => i.severity !== 'information')).toEqual([]);
        expectWellFormed(applied);
        expect((applied.carePlan.extension ?? []).map((e) => e.valueCoding!.code)).toEqual([
          ...new Set(rulesIn(applied.requestGroup.action)),
        ]);
        // Every request names the one rule it came from.
        for (const r of applied.requests) {
          expect((r.extension ?? []).filter((e) => e.url === RULE)).toHaveLength(1);
        }
      }),
      { numRuns: 100 }
    );
  });

  test('safety rules hold for every evaluation', () => {
    fc.assert(
      fc.property(caseArb, (spec) => {
        const applied = apply(spec);
        const rules = new Set(rulesIn(applied.requestGroup.action));
        const drugs = medications(applied);
        const features = spec.features ?? {};
        const activeSci = (spec.conditions ?? []).some(
          (c) => c.key === 'RF-sci' && c.status !== 'refuted' && c.status !== 'entered-in-error'
        );
        if (features['feature-sympathomimetic-contraindicated'] === true) {
          expect(drugs.filter((d) => ['Ephedrine', 'Midodrine', 'Pseudoephedrine'].includes(d))).toEqual([]);
        }
        if (activeSci) {
          expect(rules.has('R9')).toBe(false);
        }
        if (features['feature-peu-positive'] !== true) {
          expect(drugs).toEqual([]);
        }
        // Reassurance and the drug trial answer opposite situations.
        expect(rules.has('R8') && rules.has('R9')).toBe(false);
        if (features['feature-fertility-wish'] !== true) {
          expect(rules.has('R10')).toBe(false);
        }
      }),
      { numRuns: 100 }
    );
  });
});
