import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { evaluateExpression, focusEnv, focusedOn, withVariables } from '../../../src/core/plan/expression';
import { fhirpath } from './support';

const bundle = {
  resourceType: 'Bundle',
  type: 'collection',
  entry: [{ fullUrl: 'urn:uuid:1', resource: { resourceType: 'Patient' } }],
};

describe('evaluateExpression', () => {
  test('evaluates FHIRPath with the focus as %resource and %context and the given variables', () => {
    const result = evaluateExpression(
      fhirpath("%resource.entry.fullUrl.first() + '|' + %context.type + '|' + %subject"),
      bundle,
      { subject: 'Patient/1' },
      'X.expression',
      'test'
    );
    expect(result).toEqual({ ok: true, values: ['urn:uuid:1|collection|Patient/1'] });
  });

  test('reports another language as not supported, naming it', () => {
    const result = evaluateExpression(
      { language: 'text/cql', expression: 'X' },
      bundle,
      {},
      'A.condition[0].expression',
      'PD x'
    );
    expect(result).toEqual({
      ok: false,
      issue: {
        severity: 'error',
        code: 'not-supported',
        details: {
          text: 'PD x: expression language "text/cql" is not supported; only text/fhirpath is evaluated',
        },
        expression: ['A.condition[0].expression'],
      },
    });
  });

  test('reports a syntax error as an issue instead of throwing', () => {
    const result = evaluateExpression(fhirpath('entry.where('), bundle, {}, 'L', 'w');
    expect(result.ok).toBe(false);
    const { issue } = result as { issue: OperationOutcomeIssue };
    expect(issue.code).toBe('invalid');
    expect(issue.details?.text).toMatch(/^w: FHIRPath "entry.where\(" failed: /);
    expect(issue.expression).toEqual(['L']);
  });

  test('reports an undefined variable as an issue instead of throwing', () => {
    const result = evaluateExpression(fhirpath('%nope'), bundle, {}, 'L', 'w');
    expect(result.ok).toBe(false);
  });

  test('reports a library reference and a missing expression', () => {
    const byReference = evaluateExpression(
      { language: 'text/cql', reference: 'Library/x' },
      bundle,
      {},
      'L',
      'w'
    );
    expect(byReference.ok === false && byReference.issue.code).toBe('not-supported');
    const missing = evaluateExpression(undefined, bundle, {}, 'L', 'w');
    expect(missing.ok === false && missing.issue.code).toBe('invalid');
  });
});

describe('evaluateExpression on an Expression that changes', () => {
  test('an Expression whose text, language or presence changed after it ran is evaluated as it is now', () => {
    const expression: { language?: string; expression?: string; reference?: string } = fhirpath("'first'");
    const run = (): unknown => evaluateExpression(expression as never, bundle, {}, 'L', 'w');
    expect(run()).toEqual({ ok: true, values: ['first'] });
    expression.expression = "'second'";
    expect(run()).toEqual({ ok: true, values: ['second'] });
    expression.expression = 'item.where(';
    expect(run()).toMatchObject({ ok: false, issue: { code: 'invalid' } });
    expression.expression = "'first'";
    expect(run()).toEqual({ ok: true, values: ['first'] });
    expression.language = 'text/cql';
    expect(run()).toMatchObject({ ok: false, issue: { code: 'not-supported' } });
    expression.language = 'text/fhirpath';
    delete expression.expression;
    expression.reference = 'Library/x';
    expect(run()).toMatchObject({ ok: false, issue: { code: 'not-supported' } });
  });

  test('a prepared environment gives what a fresh one gives, and a stale one is not taken for it', () => {
    const env = { subject: 'Patient/1' };
    const focused = focusEnv(env, bundle);
    expect(focused).toEqual({ subject: 'Patient/1', resource: bundle, rootResource: bundle });
    expect(focusedOn(focused, bundle)).toBe(true);
    expect(focusEnv(focused, bundle)).toBe(focused);
    expect(focusedOn(focused, { ...bundle })).toBe(false);
    expect(focusedOn({ resource: undefined }, undefined)).toBe(false);
    expect(focusedOn(Object.create({ resource: bundle, rootResource: bundle }), bundle)).toBe(false);
    const expression = fhirpath('%resource.type | %rootResource.type | %context.type');
    expect(evaluateExpression(expression, bundle, focused, 'L', 'w')).toEqual(
      evaluateExpression(expression, bundle, env, 'L', 'w')
    );
    const other = { resourceType: 'Bundle', type: 'searchset' };
    expect(evaluateExpression(expression, other, focused, 'L', 'w')).toEqual({
      ok: true,
      values: ['searchset'],
    });
  });
});

describe('withVariables', () => {
  const variable = (name: string, expression: string, language = 'text/fhirpath'): object => ({
    url: 'http://hl7.org/fhir/StructureDefinition/variable',
    valueExpression: { name, language, expression },
  });

  test('defines variables in order so that each may use the ones before', () => {
    const issues: OperationOutcomeIssue[] = [];
    const env = withVariables(
      [
        variable('urls', 'entry.fullUrl'),
        { url: 'http://other', valueString: 'x' },
        variable('count', '%urls.count()'),
      ] as never,
      bundle,
      { subject: 'Patient/1' },
      {},
      'PlanDefinition',
      'w',
      issues
    );
    expect(env).toEqual({
      subject: 'Patient/1',
      resource: bundle,
      rootResource: bundle,
      urls: ['urn:uuid:1'],
      count: [1],
    });
    expect(issues).toEqual([]);
  });

  test('leaves the given environment untouched', () => {
    const base = { subject: 'Patient/1' };
    const added = { action: {} };
    withVariables([variable('a', '1')] as never, bundle, base, added, 'P', 'w', []);
    expect(base).toEqual({ subject: 'Patient/1' });
    expect(added).toEqual({ action: {} });
  });

  test('defines a failing variable as empty and reports it at its location', () => {
    const issues: OperationOutcomeIssue[] = [];
    const env = withVariables(
      [variable('bad', 'entry.(')] as never,
      bundle,
      {},
      {},
      'PlanDefinition.action[2]',
      'w',
      issues
    );
    expect(env).toEqual({ resource: bundle, rootResource: bundle, bad: [] });
    expect(issues.map((i) => i.expression)).toEqual([
      ['PlanDefinition.action[2].extension[0].valueExpression'],
    ]);
  });

  test('refuses names that would shadow predefined variables or are not identifiers', () => {
    const issues: OperationOutcomeIssue[] = [];
    const env = withVariables(
      [variable('subject', "'x'"), variable('1x', '1')] as never,
      bundle,
      { subject: 'Patient/1' },
      {},
      'P',
      'w',
      issues
    );
    expect(env).toEqual({ subject: 'Patient/1', resource: bundle, rootResource: bundle });
    expect(issues.map((i) => i.details?.text)).toEqual([
      'w: variable %subject would shadow a predefined variable',
      'w: a variable needs a valid name (got "1x")',
    ]);
  });
});
