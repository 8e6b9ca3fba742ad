import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { FhirPathEnv } from '../fhirpath/fhirpath';
import { issue } from '../outcomes';
import type { ArrayNode, ObjectNode, TemplateExpression, TemplateNode } from './template';
import type { ExpressionMemo } from './expression-memo';
import { copyJson } from '../json';

/** What one extraction shares across its templates: the issues found and the results kept. */
export interface Instantiation {
  readonly issues: OperationOutcomeIssue[];
  readonly memo: ExpressionMemo;
}

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
export function instantiate(node: TemplateNode, scope: TemplateScope, run: Instantiation): unknown[] {
  const out: unknown[] = [];
  produce(node, scope, run, out);
  return out;
}

/**
 * {@link instantiate} for a resource whose `id` is dropped afterwards (no resourceId): a fixed `id`
 * of the template root is not set in the first place. Deleting it made each resource a slow
 * dictionary-mode object for everything after (validation, narratives, JSON). Results that still
 * have an `id` (from an expression, or a template without extensions) are left to the caller.
 */
export function instantiateWithoutId(
  node: TemplateNode,
  scope: TemplateScope,
  run: Instantiation
): unknown[] {
  if (node.kind !== 'object') {
    return instantiate(node, scope, run);
  }
  const out: unknown[] = [];
  produceObject(node, scope, run, out, true);
  return out;
}

/** Appends what `node` yields in `scope` to `out` (no intermediate arrays: this runs per element). */
function produce(node: TemplateNode, scope: TemplateScope, run: Instantiation, out: unknown[]): void {
  switch (node.kind) {
    case 'const':
      out.push(copyJson(node.value));
      return;
    case 'array':
      out.push(produceArray(node, scope, run));
      return;
    case 'object':
      produceObject(node, scope, run, out);
      return;
  }
}

/** An array node yields one array: its items' results in order, an item's array kept as one item. */
function produceArray(node: ArrayNode, scope: TemplateScope, run: Instantiation): unknown[] {
  const items: unknown[] = [];
  for (const item of node.items) {
    produce(item, scope, run, items);
  }
  return items;
}

function produceObject(
  node: ObjectNode,
  scope: TemplateScope,
  run: Instantiation,
  out: unknown[],
  withoutId = false
): void {
  if (!node.context) {
    produceInScope(node, scope, run, out, withoutId);
    return;
  }
  // One scope per context result; the scope objects are made here, not collected in a list first.
  const context = node.context;
  const name = context.name;
  for (const result of evaluate(context, scope, run, 'nodes')) {
    const env = name ? { ...scope.env, [name]: result } : scope.env;
    produceInScope(node, { context: result, env }, run, out, withoutId);
  }
}

function produceInScope(
  node: ObjectNode,
  scope: TemplateScope,
  run: Instantiation,
  out: unknown[],
  withoutId = false
): void {
  if (node.value) {
    for (const value of evaluate(node.value, scope, run, 'values')) {
      out.push(value);
    }
    return;
  }
  const obj: Record<string, unknown> = {};
  let kept = false; // whether any key was set (instead of counting the keys afterwards)
  for (const field of node.fields) {
    if (withoutId && field.key === 'id' && isFixedSingle(field)) {
      kept = true; // it would have been set (and counted), then deleted
      continue;
    }
    if (field.primitive) {
      kept =
        setValues(
          obj,
          field.key,
          evaluate(field.primitive, scope, run, 'values'),
          field.isArray,
          field.primitive,
          run.issues
        ) || kept;
    } else if (field.node) {
      kept = setNode(obj, field.key, field.node, field.isArray, scope, run) || kept;
    }
    if (field.companion) {
      kept = setNode(obj, `_${field.key}`, field.companion, false, scope, run) || kept;
    }
  }
  if (kept) {
    out.push(obj);
  }
}

/** A field set to a fixed value that is not an array, with no `_key` beside it: setting it has no other effect. */
function isFixedSingle(field: ObjectNode['fields'][number]): boolean {
  return !field.isArray && !field.primitive && !field.companion && field.node?.kind === 'const';
}

/** Sets `obj[key]` to what `node` yields; true when it set it. */
function setNode(
  obj: Record<string, unknown>,
  key: string,
  node: TemplateNode,
  isArray: boolean,
  scope: TemplateScope,
  run: Instantiation
): boolean {
  // Constant and array nodes yield exactly one value: no result list to build.
  if (node.kind !== 'object') {
    const value = node.kind === 'const' ? copyJson(node.value) : produceArray(node, scope, run);
    if (!isArray || (value as unknown[]).length > 0) {
      obj[key] = value;
      return true;
    }
    return false;
  }
  const results = instantiate(node, scope, run);
  if (isArray) {
    const items = (results[0] as unknown[] | undefined) ?? [];
    if (items.length > 0) {
      obj[key] = items;
      return true;
    }
    return false;
  }
  if (results.length > 1) {
    run.issues.push(
      issue(
        'warning',
        'processing',
        `Template element "${key}" is not repeating but yielded ${results.length} values; kept the first`
      )
    );
  }
  if (results.length > 0) {
    obj[key] = results[0];
    return true;
  }
  return false;
}

/** Sets `obj[key]` to the values (all, or the first of several with a warning); true when it set it. */
function setValues(
  obj: Record<string, unknown>,
  key: string,
  values: unknown[],
  isArray: boolean,
  expr: TemplateExpression,
  issues: OperationOutcomeIssue[]
): boolean {
  if (values.length === 0) {
    return false;
  }
  if (isArray) {
    obj[key] = values;
    return true;
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
  return true;
}

/**
 * Evaluates a template expression: contexts keep fhirpath.js's typed nodes (later expressions run on
 * them), values come back plain, from the compiled closure when it can.
 */
function evaluate(
  expr: TemplateExpression,
  scope: TemplateScope,
  run: Instantiation,
  mode: 'nodes' | 'values'
): unknown[] {
  if (expr.language !== undefined && expr.language !== 'text/fhirpath') {
    run.issues.push(
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
    run.issues.push(issue('error', 'required', 'Template extension without an expression', expr.location));
    return [];
  }
  try {
    return run.memo.evaluate(expr.compiled, mode, scope.base, scope.context, scope.env);
  } catch (err) {
    run.issues.push(
      issue('error', 'processing', err instanceof Error ? err.message : String(err), expr.location)
    );
    return [];
  }
}
