import fc from 'fast-check';
import type { PlanDefinition, PlanDefinitionAction } from '@medplum/fhirtypes';
import { copiedJson, definitionPlan } from '../../../src/core/plan/action-plan';
import type { ActionPlan } from '../../../src/core/plan/action-plan';
import { fhirpath } from './support';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 60);

const VARIABLE = 'http://hl7.org/fhir/StructureDefinition/variable';
const BEHAVIOR = 'http://hl7.org/fhir/StructureDefinition/cqf-applicabilityBehavior';

describe('definitionPlan', () => {
  const definition = (): PlanDefinition => ({
    resourceType: 'PlanDefinition',
    url: 'http://example.org/PlanDefinition/p',
    version: '1',
    status: 'active',
    extension: [{ url: VARIABLE, valueExpression: { name: 'v', ...fhirpath('1') } }],
    action: [
      {
        prefix: '1.',
        title: 'first',
        extension: [
          { url: 'http://example.org/rule', valueCode: 'R1' },
          { url: BEHAVIOR, valueCode: 'any' },
          { url: VARIABLE, valueExpression: { name: 'subject', ...fhirpath('2') } },
        ],
        condition: [
          { kind: 'start', expression: fhirpath('true') },
          { kind: 'applicability', expression: fhirpath('%v = 1') },
        ],
        documentation: [{ type: 'citation', citation: 'x' }],
        action: [{ textEquivalent: 'inner' }, { code: [{ text: 'coded' }] }],
      },
    ],
  });

  test('reads locations, issue prefixes, conditions, copied parts and labels once', () => {
    const plan = definitionPlan(definition(), false);
    expect(plan.canonical).toBe('http://example.org/PlanDefinition/p|1');
    expect(plan.where).toBe('PlanDefinition http://example.org/PlanDefinition/p|1');
    expect(plan.variables.map((v) => [v.at, v.valueAt, v.name, v.refused])).toEqual([
      ['PlanDefinition.extension[0]', 'PlanDefinition.extension[0].valueExpression', 'v', undefined],
    ]);
    const first = plan.actions[0]!;
    expect(first.path).toBe('PlanDefinition.action[0]');
    expect(first.where).toBe('PlanDefinition http://example.org/PlanDefinition/p|1, action "first"');
    expect(first.copied).toEqual([{ url: 'http://example.org/rule', valueCode: 'R1' }]);
    expect(first.variables.map((v) => [v.at, v.refused])).toEqual([
      ['PlanDefinition.action[0].extension[2]', 'reserved'],
    ]);
    expect(first.conditions).toEqual([
      {
        expression: fhirpath('%v = 1'),
        location: 'PlanDefinition.action[0].condition[1].expression',
        text: '%v = 1',
        quoted: '"%v = 1"',
      },
    ]);
    expect(first.behavior).toEqual({ url: BEHAVIOR, valueCode: 'any' });
    expect(first.behaviorMode).toBe('any');
    expect(first.children.map((c) => c.behaviorMode)).toEqual(['all', 'all']);
    expect(copiedJson(first, 0)).toBe(JSON.stringify({ url: 'http://example.org/rule', valueCode: 'R1' }));
    expect(first.copiedKeys).toEqual(['prefix', 'title', 'documentation']);
    expect(first.label).toBe('1. first');
    expect(first.children.map((c) => [c.path, c.where, c.label])).toEqual([
      [
        'PlanDefinition.action[0].action[0]',
        'PlanDefinition http://example.org/PlanDefinition/p|1, action "PlanDefinition.action[0].action[0]"',
        'inner',
      ],
      [
        'PlanDefinition.action[0].action[1]',
        'PlanDefinition http://example.org/PlanDefinition/p|1, action "PlanDefinition.action[0].action[1]"',
        'coded',
      ],
    ]);
  });

  test("conditions need the action's own environment only when they may read %action or its variables", () => {
    const needs = (action: PlanDefinitionAction): boolean =>
      definitionPlan({ ...definition(), action: [action] }, false).actions[0]!.conditionsNeedOwnEnv;
    const when = (...texts: string[]): PlanDefinitionAction => ({
      condition: texts.map((text) => ({ kind: 'applicability' as const, expression: fhirpath(text) })),
    });
    expect(needs({})).toBe(false);
    expect(needs(when('%v = 1', '%data.entry.exists()', "'%action'.exists() and false"))).toBe(true);
    expect(needs(when('%v = 1', '%data.entry.exists()'))).toBe(false);
    expect(needs(when('%action.title.exists()'))).toBe(true);
    expect(needs(when("defineVariable('x', 1).exists()"))).toBe(true);
    expect(needs(when("%'action'.exists()"))).toBe(true);
    expect(needs(when('now() > @2020'))).toBe(true);
    expect(needs({ condition: [{ kind: 'applicability', expression: { language: 'text/fhirpath' } }] })).toBe(
      false
    );
    expect(
      needs({
        extension: [{ url: VARIABLE, valueExpression: { name: 'w', ...fhirpath('1') } }],
        ...when('true'),
      })
    ).toBe(true);
  });

  test('an applicabilityBehavior other than all or any is planned as invalid', () => {
    for (const valueCode of ['some', undefined]) {
      const plan = definitionPlan(
        {
          ...definition(),
          action: [{ extension: [{ url: BEHAVIOR, ...(valueCode ? { valueCode } : {}) }] }],
        },
        false
      );
      expect(plan.actions[0]!.behaviorMode).toBe('invalid');
    }
    const all = definitionPlan(
      { ...definition(), action: [{ extension: [{ url: BEHAVIOR, valueCode: 'all' }] }] },
      false
    );
    expect(all.actions[0]!.behaviorMode).toBe('all');
  });

  test('keeps the plan of a held definition, and plans any other one afresh', () => {
    const held = definition();
    expect(definitionPlan(held, true)).toBe(definitionPlan(held, true));
    const mine = definition();
    const before = definitionPlan(mine, false);
    mine.action![0]!.title = 'changed';
    const after = definitionPlan(mine, false);
    expect(after).not.toBe(before);
    expect(after.actions[0]!.label).toBe('1. changed');
  });

  test('every action of a generated tree is planned, in document order, with its own location', () => {
    const actionArb: fc.Memo<PlanDefinitionAction> = fc.memo((depth) =>
      fc.record(
        {
          title: fc.option(fc.constantFrom('a', 'b "q"'), { nil: undefined }),
          id: fc.option(fc.constantFrom('x', 'y'), { nil: undefined }),
          condition: fc.array(
            fc.record({
              kind: fc.constantFrom('applicability', 'start', 'stop') as fc.Arbitrary<'applicability'>,
              expression: fc.constantFrom(fhirpath('true'), fhirpath('%v'), undefined),
            }),
            { maxLength: 3 }
          ),
          action: depth > 1 ? fc.array(actionArb(depth - 1), { maxLength: 3 }) : fc.constant(undefined),
        },
        { requiredKeys: [] }
      )
    );
    fc.assert(
      fc.property(fc.array(actionArb(3), { maxLength: 4 }), (actions) => {
        const plan = definitionPlan(
          { resourceType: 'PlanDefinition', status: 'active', url: 'http://e/p', action: actions },
          false
        );
        // The recursion the processor did per call, written out again.
        const expected = (list: readonly PlanDefinitionAction[] | undefined, base: string): unknown[] =>
          (list ?? []).map((action, i) => {
            const path = `${base}[${i}]`;
            return {
              path,
              where: `PlanDefinition http://e/p, action ${JSON.stringify(action.title ?? action.id ?? path)}`,
              conditions: (action.condition ?? [])
                .map((c, index) => ({ c, index }))
                .filter(({ c }) => c.kind === 'applicability')
                .map(({ c, index }) => ({
                  location: `${path}.condition[${index}].expression`,
                  text: c.expression?.expression ?? '',
                })),
              children: expected(action.action, `${path}.action`),
            };
          });
        const seen = (list: readonly ActionPlan[]): unknown[] =>
          list.map((a) => ({
            path: a.path,
            where: a.where,
            conditions: a.conditions.map(({ location, text }) => ({ location, text })),
            children: seen(a.children),
          }));
        expect(seen(plan.actions)).toEqual(expected(actions, 'PlanDefinition.action'));
      }),
      { numRuns: RUNS }
    );
  });
});
