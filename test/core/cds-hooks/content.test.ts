/**
 * The CDS Hooks rules as content (PlanDefinition-re-cds-*): what the service machinery and the card
 * schema rely on. The management-pathway checks (management-content.test.ts) do not cover them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CodeSystem, PlanDefinition } from '@medplum/fhirtypes';
import { EVIDENCE_BASIS_EXTENSION, hookDefinitions } from '../../../src/core/cds-hooks';
import { RULE_EXTENSION } from '../../../src/core/constants';
import { compileFhirPath } from '../../../src/core/fhirpath/fhirpath';
import { VARIABLE_EXTENSION } from '../../../src/core/plan';
import { testEngine } from '../../helpers/engine';

const ROOT = join(__dirname, '../../..');
const files = readdirSync(join(ROOT, 'profiles')).filter((f) => f.startsWith('PlanDefinition-re-cds-'));
const rules = files.map((f) => JSON.parse(readFileSync(join(ROOT, 'profiles', f), 'utf8')) as PlanDefinition);
const ruleCodeSystem = JSON.parse(
  readFileSync(join(ROOT, 'valuesets/CodeSystem-re-rule.json'), 'utf8')
) as CodeSystem;
const registry = testEngine().registry;

describe('CDS Hooks rules (profiles/PlanDefinition-re-cds-*)', () => {
  test('there are two, and each is a CDS service in discovery', () => {
    expect(rules.map((r) => r.id).sort()).toEqual(['re-cds-order-sign', 're-cds-patient-view']);
    expect(
      hookDefinitions(registry)
        .map((h) => h.service.id)
        .sort()
    ).toEqual(['re-cds-order-sign', 're-cds-patient-view']);
  });

  test.each(rules.map((r) => [r.id!, r] as const))(
    '%s: one action, one named-event trigger whose data requirements all have keys',
    (_id, rule) => {
      expect(rule.action).toHaveLength(1);
      const triggers = rule.action![0]!.trigger ?? [];
      expect(triggers.map((t) => t.type)).toEqual(['named-event']);
      const data = triggers[0]!.data ?? [];
      expect(data.length).toBeGreaterThan(0);
      expect(data.every((d) => typeof d.id === 'string' && d.id !== '')).toBe(true);
    }
  );

  test.each(rules.map((r) => [r.id!, r] as const))(
    '%s: the action makes a valid card: a summary under 140 characters, a description, a priority',
    (_id, rule) => {
      const action = rule.action![0]!;
      expect(action.title!.length).toBeLessThan(140);
      expect(action.description!.length).toBeGreaterThan(50);
      expect(['routine', 'urgent']).toContain(action.priority);
    }
  );

  test.each(rules.map((r) => [r.id!, r] as const))(
    '%s: names one rule, with exactly the evidence basis CodeSystem re-rule gives it',
    (_id, rule) => {
      const extensions = rule.action![0]!.extension ?? [];
      const named = extensions.filter((e) => e.url === RULE_EXTENSION).map((e) => e.valueCoding!);
      expect(named).toHaveLength(1);
      const concept = ruleCodeSystem.concept!.find((c) => c.code === named[0]!.code)!;
      expect(named[0]!.display).toBe(concept.display);
      expect(extensions.filter((e) => e.url === EVIDENCE_BASIS_EXTENSION).map((e) => e.valueCoding)).toEqual(
        (concept.property ?? []).filter((p) => p.code === 'evidence-basis').map((p) => p.valueCoding)
      );
    }
  );

  test.each(rules.map((r) => [r.id!, r] as const))(
    '%s: every depends-on resolves in the shipped content',
    (_id, rule) => {
      const dependsOn = (rule.relatedArtifact ?? [])
        .filter((a) => a.type === 'depends-on')
        .map((a) => a.resource!);
      expect(dependsOn.length).toBeGreaterThan(0);
      expect(dependsOn.filter((canonical) => !registry.resolve(canonical))).toEqual([]);
    }
  );

  test.each(rules.map((r) => [r.id!, r] as const))(
    '%s: every expression compiles, and none compares a number (thresholds live in the Questionnaire)',
    (_id, rule) => {
      const action = rule.action![0]!;
      const expressions = [
        ...(rule.extension ?? []).filter((e) => e.url === VARIABLE_EXTENSION).map((e) => e.valueExpression!),
        ...(action.condition ?? []).map((c) => c.expression!),
        ...(action.dynamicValue ?? []).map((d) => d.expression!),
      ];
      for (const expression of expressions) {
        expect(expression.language).toBe('text/fhirpath');
        expect(() => compileFhirPath(expression.expression!)).not.toThrow();
        expect({
          expression: expression.expression,
          number: /(?<![\w.'-])\d+(\.\d+)?(?![\w'-])/.test(expression.expression!.replace(/'[^']*'/g, "''")),
        }).toEqual({ expression: expression.expression, number: false });
      }
    }
  );
});
