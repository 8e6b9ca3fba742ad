import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { evaluateExpression, withVariables } from '../../../src/core/plan/expression';
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
      'PlanDefinition',
      'w',
      issues
    );
    expect(env).toEqual({ subject: 'Patient/1', urls: ['urn:uuid:1'], count: [1] });
    expect(issues).toEqual([]);
  });

  test('leaves the given environment untouched', () => {
    const base = { subject: 'Patient/1' };
    withVariables([variable('a', '1')] as never, bundle, base, 'P', 'w', []);
    expect(base).toEqual({ subject: 'Patient/1' });
  });

  test('defines a failing variable as empty and reports it at its location', () => {
    const issues: OperationOutcomeIssue[] = [];
    const env = withVariables(
      [variable('bad', 'entry.(')] as never,
      bundle,
      {},
      'PlanDefinition.action[2]',
      'w',
      issues
    );
    expect(env).toEqual({ bad: [] });
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
      'P',
      'w',
      issues
    );
    expect(env).toEqual({ subject: 'Patient/1' });
    expect(issues.map((i) => i.details?.text)).toEqual([
      'w: variable %subject would shadow a predefined variable',
      'w: a variable needs a valid name (got "1x")',
    ]);
  });
});
