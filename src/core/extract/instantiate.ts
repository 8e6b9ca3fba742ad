import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { FhirPathEnv } from '../fhirpath/fhirpath';
import { issue } from '../outcomes';
import type { ObjectNode, TemplateExpression, TemplateNode } from './template';
import { copyJson } from '../json';

/** The evaluation context of a template: the QuestionnaireResponse node and the `%` variables. */
export interface TemplateScope {
  /** Context node (a QuestionnaireResponse, one of its items, or a typed node from an earlier expression). */
  readonly context: unknown;
  /** FHIR type path of a plain-object context (e.g. `QuestionnaireResponse.item`); unused for typed nodes. */
  readonly base?: string;
  readonly env: FhirPathEnv;
}

/**
 * Instantiates a compiled template in a scope. Returns the copies the template yields (none when a
 * context is empty, several when a context has several results) and records problems in `issues`.
 * Expression errors are reported and the element is left out, per SDC: "log the error and continue".
 */
export function instantiate(
  node: TemplateNode,
  scope: TemplateScope,
  issues: OperationOutcomeIssue[]
): unknown[] {
  switch (node.kind) {
    case 'const':
      return [copy(node.value)];
    case 'array':
      return [node.items.flatMap((item) => instantiate(item, scope, issues))];
    case 'object':
      return instantiateObject(node, scope, issues);
  }
}

function instantiateObject(
  node: ObjectNode,
  scope: TemplateScope,
  issues: OperationOutcomeIssue[]
): unknown[] {
  const scopes: TemplateScope[] = node.context ? contextScopes(node.context, scope, issues) : [scope];
  const out: unknown[] = [];
  for (const inner of scopes) {
    if (node.value) {
      out.push(...evaluate(node.value, inner, issues, 'values'));
      continue;
    }
    const obj: Record<string, unknown> = {};
    for (const field of node.fields) {
      if (field.primitive) {
        setValues(
          obj,
          field.key,
          evaluate(field.primitive, inner, issues, 'values'),
          field.isArray,
          field.primitive,
          issues
        );
      } else if (field.node) {
        setNode(obj, field.key, field.node, field.isArray, inner, issues);
      }
      if (field.companion) {
        setNode(obj, `_${field.key}`, field.companion, false, inner, issues);
      }
    }
    if (Object.keys(obj).length > 0) {
      out.push(obj);
    }
  }
  return out;
}

function setNode(
  obj: Record<string, unknown>,
  key: string,
  node: TemplateNode,
  isArray: boolean,
  scope: TemplateScope,
  issues: OperationOutcomeIssue[]
): void {
  const results = instantiate(node, scope, issues);
  if (isArray) {
    const items = (results[0] as unknown[] | undefined) ?? [];
    if (items.length > 0) {
      obj[key] = items;
    }
    return;
  }
  if (results.length > 1) {
    issues.push(
      issue(
        'warning',
        'processing',
        `Template element "${key}" is not repeating but yielded ${results.length} values; kept the first`
      )
    );
  }
  if (results.length > 0) {
    obj[key] = results[0];
  }
}

function setValues(
  obj: Record<string, unknown>,
  key: string,
  values: unknown[],
  isArray: boolean,
  expr: TemplateExpression,
  issues: OperationOutcomeIssue[]
): void {
  if (values.length === 0) {
    return;
  }
  if (isArray) {
    obj[key] = values;
    return;
  }
  if (values.length > 1) {
    issues.push(
      issue(
        'warning',
        'processing',
        `templateExtractValue ${JSON.stringify(expr.expression)} returned ${values.length} values for a single element; kept the first`,
        expr.location
      )
    );
  }
  obj[key] = values[0];
}

function contextScopes(
  expr: TemplateExpression,
  scope: TemplateScope,
  issues: OperationOutcomeIssue[]
): TemplateScope[] {
  return evaluate(expr, scope, issues, 'nodes').map((result) => ({
    context: result,
    env: expr.name ? { ...scope.env, [expr.name]: result } : scope.env,
  }));
}

/**
 * Evaluates a template expression: contexts keep fhirpath.js's typed nodes (later expressions run on
 * them), values come back plain, from the compiled closure when it can.
 */
function evaluate(
  expr: TemplateExpression,
  scope: TemplateScope,
  issues: OperationOutcomeIssue[],
  mode: 'nodes' | 'values'
): unknown[] {
  if (expr.language !== undefined && expr.language !== 'text/fhirpath') {
    issues.push(
      issue(
        'error',
        'not-supported',
        `Template expressions must be text/fhirpath, not ${expr.language}`,
        expr.location
      )
    );
    return [];
  }
  if (expr.expression === '') {
    issues.push(issue('error', 'required', 'Template extension without an expression', expr.location));
    return [];
  }
  try {
    return expr.compiled.get(mode, scope.base)(scope.context, scope.env);
  } catch (err) {
    issues.push(
      issue('error', 'processing', err instanceof Error ? err.message : String(err), expr.location)
    );
    return [];
  }
}

function copy(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? copyJson(value) : value;
}
