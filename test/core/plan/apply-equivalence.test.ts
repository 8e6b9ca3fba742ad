import fc from 'fast-check';
import type {
  ActivityDefinition,
  Bundle,
  Extension,
  PlanDefinition,
  PlanDefinitionAction,
} from '@medplum/fhirtypes';
import { ConformanceRegistry, shippedRegistry } from '../../../src/core/conformance/registry';
import { MANAGEMENT_PATHWAY, PROFILE, RULE_EXTENSION } from '../../../src/core/constants';
import { extractOperation } from '../../../src/core/operations/extract';
import { applyPlanDefinition } from '../../../src/core/plan';
import type { ApplyDeps, ApplyOptions, ApplyParameters } from '../../../src/core/plan';
import { testEngine } from '../../helpers/engine';
import { validReResponse } from '../../helpers/re-response-arbitrary';
import { caseArb } from './case-arbitrary';
import { caseData } from './cases';
import { counterIds, depsOver, fhirpath, fixedClock } from './support';
import { applyPlanDefinition as legacyApply } from './legacy/plan-definition';

/**
 * The `$apply` of this branch against the one it replaced (test/core/plan/legacy, main before the
 * work), on the same definitions and data: the plan, its issues and its trace must be the same JSON,
 * property order included. Without a trace (`trace: false`, as the evaluation asks), everything but
 * the trace, which is empty, must be the same too.
 */
function expectSameApply(
  planDefinition: PlanDefinition | string,
  params: ApplyParameters,
  deps: () => ApplyDeps,
  options: ApplyOptions
): void {
  const now = applyPlanDefinition(planDefinition, params, deps(), options);
  const before = legacyApply(planDefinition, params, deps(), options);
  expect(JSON.stringify(now)).toBe(JSON.stringify(before));
  const untraced = applyPlanDefinition(planDefinition, params, deps(), { ...options, trace: false });
  expect(JSON.stringify(untraced)).toBe(JSON.stringify({ ...before, trace: [] }));
}

const RUNS = Number(process.env.PROPERTY_RUNS ?? 60);

describe('$apply equals the earlier $apply', () => {
  const registry = shippedRegistry();
  const shippedDeps = (): ApplyDeps => ({
    resolve: (canonical) => registry.resolve(canonical),
    clock: fixedClock,
    newId: counterIds(),
  });
  const pathwayOptions: ApplyOptions = {
    carePlanExtensionUrls: [RULE_EXTENSION],
    requestExtensionUrls: [RULE_EXTENSION],
    carePlanBase: { meta: { profile: [PROFILE.carePlan] } },
    requestIdentifier: ({ planDefinition, path }) => ({
      system: 'urn:x',
      value: `${planDefinition}-${path}`,
    }),
  };

  test('the management pathway on generated case features and extracted Conditions', () => {
    fc.assert(
      fc.property(caseArb, (spec) => {
        expectSameApply(
          MANAGEMENT_PATHWAY,
          { subject: 'Patient/p1', data: caseData(spec) },
          shippedDeps,
          pathwayOptions
        );
      }),
      { numRuns: 4 * RUNS }
    );
  });

  test('the management pathway on generated responses, checked, calculated and extracted', () => {
    const deps = testEngine();
    fc.assert(
      fc.property(validReResponse(), (response) => {
        const extracted = extractOperation(response, deps, {
          responseProfiles: [PROFILE.questionnaireResponse],
        });
        const completed = extracted.checked.completed;
        const entries = extracted.bundle.entry ?? [];
        const data: Bundle = {
          resourceType: 'Bundle',
          type: 'collection',
          entry: [
            { fullUrl: 'urn:uuid:10000000-0000-4000-8000-000000000001', resource: completed },
            ...entries.map(({ fullUrl, resource }) => ({ fullUrl, resource })),
          ],
        };
        const addresses = entries
          .filter((e) => e.resource?.resourceType === 'Condition')
          .map((e) => e.fullUrl!)
          .filter((_url, i) => i % 2 === 0);
        expectSameApply(
          MANAGEMENT_PATHWAY,
          {
            subject: completed.subject?.reference ?? 'Patient/p',
            encounter: completed.encounter?.reference,
            data,
            addresses,
            supportingInfo: [`QuestionnaireResponse/${completed.id}`],
          },
          shippedDeps,
          pathwayOptions
        );
      }),
      { numRuns: RUNS }
    );
  });

  test('generated definitions: variables, conditions, nested definitions and dynamic values, valid or not', () => {
    const definitions: ActivityDefinition[] = (
      ['ServiceRequest', 'MedicationRequest', 'CommunicationRequest', 'Task'] as const
    ).map((kind) => ({
      resourceType: 'ActivityDefinition',
      url: `http://example.org/ActivityDefinition/${kind}`,
      status: 'active',
      kind,
      code: { text: kind },
      extension: [
        {
          url: 'http://hl7.org/fhir/StructureDefinition/variable',
          valueExpression: { name: 'who', ...fhirpath("%subject + '!'") },
        },
      ],
      dynamicValue: [
        { path: 'description', expression: fhirpath("%who + ' ' + %activityDefinition.kind") },
        { path: 'note.text', expression: fhirpath("%resource.resourceType + '/' + %context.status") },
      ],
      ...(kind === 'MedicationRequest' ? { productCodeableConcept: { text: 'drug' } } : {}),
    }));
    // Without variables (their dynamic values get the request's environment at once), with and
    // without dynamic values.
    definitions.push(
      ...definitions.map((d, i) => {
        const plain: ActivityDefinition = { ...d, url: `${d.url}-plain` };
        delete plain.extension;
        if (i % 2 === 1) {
          delete plain.dynamicValue;
        } else {
          plain.dynamicValue = [
            ...(d.dynamicValue ?? []),
            { path: 'code.text', expression: fhirpath('%activityDefinition.url & %rootResource.status') },
          ];
        }
        return plain;
      })
    );
    const nested: PlanDefinition = {
      resourceType: 'PlanDefinition',
      url: 'http://example.org/PlanDefinition/nested',
      status: 'active',
      extension: [
        {
          url: 'http://hl7.org/fhir/StructureDefinition/variable',
          valueExpression: { name: 'inner', ...fhirpath('%planDefinition.url') },
        },
      ],
      action: [
        { title: 'n1', definitionCanonical: 'http://example.org/ActivityDefinition/Task' },
        { title: 'n2', condition: [{ kind: 'applicability', expression: fhirpath('%inner.exists()') }] },
      ],
    };
    const expressionArb = fc.constantFrom(
      fhirpath('true'),
      fhirpath('false'),
      fhirpath("'text'"),
      fhirpath('(1 | 2)'),
      fhirpath('item.where('),
      fhirpath('%undefinedVariable'),
      fhirpath('%v.exists()'),
      fhirpath('%v.count() > 1'),
      fhirpath("%action.title = 'a'"),
      // Depends on whether %action is defined (fhirpath.js refuses to redefine an environment variable).
      fhirpath("defineVariable('action', 1).exists()"),
      fhirpath("defineVariable('w2', 1).select(%w2).exists()"),
      fhirpath('%resource.resourceType'),
      fhirpath('%rootResource.type'),
      fhirpath('%context.entry.count()'),
      fhirpath('%data.entry.resource.ofType(QuestionnaireResponse).exists()'),
      { language: 'text/cql' as const, expression: 'Needs It' },
      { reference: 'Library/x' }
    );
    const variableArb = fc.record({
      url: fc.constant('http://hl7.org/fhir/StructureDefinition/variable'),
      valueExpression: fc
        .tuple(fc.constantFrom('v', 'w', 'subject', 'resource', '1x'), expressionArb)
        .map(([name, expression]) => ({ name, ...expression })),
    });
    const dynamicValueArb = fc.record({
      path: fc.constantFrom(
        'description',
        'note.text',
        'status',
        'intent',
        'code.text',
        'title',
        'no.such',
        // Rewrites a copied rule extension (its own or a sub-action's) after it was copied.
        'extension[0].valueCoding.display',
        'action[0].extension[0].valueCoding.code'
      ),
      expression: expressionArb,
    });
    const actionArb: fc.Memo<PlanDefinitionAction> = fc.memo(
      (depth) =>
        fc.record(
          {
            title: fc.constantFrom('a', 'b', 'c'),
            extension: fc.array(
              fc.oneof(
                variableArb,
                fc.constant({
                  url: 'http://hl7.org/fhir/StructureDefinition/cqf-applicabilityBehavior',
                  valueCode: 'any',
                }),
                fc.record({
                  url: fc.constantFrom(RULE_EXTENSION, 'http://example.org/other'),
                  valueCoding: fc.record(
                    { code: fc.constantFrom('R1', 'R2'), display: fc.constantFrom('a', 'b') },
                    { requiredKeys: [] }
                  ),
                })
              ),
              { maxLength: 3 }
            ),
            condition: fc.array(
              expressionArb.map((expression) => ({ kind: 'applicability' as const, expression })),
              { maxLength: 2 }
            ),
            definitionCanonical: fc.option(
              fc.constantFrom(
                ...definitions.map((d) => d.url!),
                nested.url!,
                'http://example.org/ActivityDefinition/unknown'
              ),
              { nil: undefined }
            ),
            dynamicValue: fc.array(dynamicValueArb, { maxLength: 3 }),
            action: depth > 1 ? fc.array(actionArb(depth - 1), { maxLength: 3 }) : fc.constant([]),
          },
          { requiredKeys: ['title'] }
        ) as fc.Arbitrary<PlanDefinitionAction>
    );
    fc.assert(
      fc.property(
        fc.array(actionArb(3), { maxLength: 4 }),
        fc.array(variableArb, { maxLength: 2 }),
        (actions, variables) => {
          const plan: PlanDefinition = {
            resourceType: 'PlanDefinition',
            url: 'http://example.org/PlanDefinition/random',
            status: 'active',
            extension: variables as Extension[],
            action: actions,
          };
          const params = { subject: 'Patient/p', data: caseData({}) };
          const options = { carePlanExtensionUrls: [RULE_EXTENSION], requestExtensionUrls: [RULE_EXTENSION] };
          // By value (planned afresh), then held by the resolver twice: the second call runs on the
          // plan kept from the first.
          expectSameApply(plan, params, () => depsOver([...definitions, nested]), options);
          const held = (): ApplyDeps => depsOver([...definitions, nested, plan]);
          expectSameApply(plan.url!, params, held, options);
          expectSameApply(plan, params, held, options);
        }
      ),
      { numRuns: 5 * RUNS }
    );
  });

  test('a dynamic value that rewrites a copied rule extension changes which the CarePlan keeps', () => {
    const rule = (code: string): Extension => ({
      url: RULE_EXTENSION,
      valueCoding: { system: 'http://example.org/rules', code, display: code },
    });
    // The nested definition's actions sit under b's RequestGroup action before b's dynamic values run.
    const child = { title: 'c', extension: [rule('R1')] };
    const inner: PlanDefinition = {
      resourceType: 'PlanDefinition',
      url: 'http://example.org/PlanDefinition/inner',
      status: 'active',
      action: [child, child],
    };
    const plan: PlanDefinition = {
      resourceType: 'PlanDefinition',
      url: 'http://example.org/PlanDefinition/rewrite',
      status: 'active',
      action: [
        { title: 'a', extension: [rule('R1')] },
        {
          title: 'b',
          extension: [rule('R1')],
          definitionCanonical: inner.url,
          dynamicValue: [
            { path: 'extension[0].valueCoding.display', expression: fhirpath("'changed'") },
            { path: 'action[0].extension[0].valueCoding.code', expression: fhirpath("'R2'") },
          ],
        },
      ],
    };
    const options = { carePlanExtensionUrls: [RULE_EXTENSION] };
    const params = { subject: 'Patient/p', data: caseData({}) };
    const held = (): ApplyDeps => depsOver([plan, inner]);
    for (let i = 0; i < 2; i++) {
      expectSameApply(plan.url!, params, held, options);
    }
    const applied = applyPlanDefinition(plan.url!, params, held(), options);
    expect(applied.carePlan.extension?.map((e) => [e.valueCoding?.code, e.valueCoding?.display])).toEqual([
      ['R1', 'R1'],
      ['R1', 'changed'],
      ['R2', 'R1'],
    ]);
  });

  test('$apply leaves the content as it is: deep-frozen definitions give the same plan', () => {
    // Content is shared by every run (and by anything prepared from it); a run that wrote into a
    // definition would throw here, in strict mode, instead of passing.
    const frozen = new ConformanceRegistry(registry.resources.map((r) => deepFreeze(structuredClone(r))));
    const frozenDeps = (): ApplyDeps => ({
      resolve: (canonical) => frozen.resolve(canonical),
      clock: fixedClock,
      newId: counterIds(),
    });
    fc.assert(
      fc.property(caseArb, (spec) => {
        const params = { subject: 'Patient/p1', data: caseData(spec) };
        const now = applyPlanDefinition(MANAGEMENT_PATHWAY, params, frozenDeps(), pathwayOptions);
        const before = legacyApply(MANAGEMENT_PATHWAY, params, shippedDeps(), pathwayOptions);
        expect(JSON.stringify(now)).toBe(JSON.stringify(before));
      }),
      { numRuns: RUNS }
    );
  });

  test('a PlanDefinition given by value that the resolver does not hold is read afresh on every call', () => {
    const plan: PlanDefinition = {
      resourceType: 'PlanDefinition',
      url: 'http://example.org/PlanDefinition/mine',
      status: 'active',
      action: [{ title: 'a', condition: [{ kind: 'applicability', expression: fhirpath('true') }] }],
    };
    const deps = (): ApplyDeps => depsOver([]);
    const params = { subject: 'Patient/p', data: caseData({}) };
    expectSameApply(plan, params, deps, {});
    plan.action![0]!.condition![0]!.expression = fhirpath('false');
    plan.action!.push({ title: 'b', dynamicValue: [{ path: 'description', expression: fhirpath("'x'") }] });
    expectSameApply(plan, params, deps, {});
    expect(applyPlanDefinition(plan, params, deps()).trace.map((t) => t.outcome)).toEqual([
      'not-applicable',
      'applied',
    ]);
  });
});

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as object)) {
      deepFreeze(child);
    }
  }
  return value;
}
