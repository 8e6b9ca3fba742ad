import type { CompiledFhirPath, FhirPathEnv } from '../fhirpath/fhirpath';
import { copyJson } from '../json';
import type { CompiledExpression, Mode } from './compiled-expression';

/** One kept result: the variable values it was computed with, and the results. */
interface Kept {
  readonly values: readonly unknown[];
  readonly results: readonly unknown[];
}

/** At most this many results are kept per compiled function (one per set of variable values). */
const KEPT_PER_FUNCTION = 4;

/**
 * The results of template expressions that do not read their context, within one extraction: the
 * shipped templates ask `%resource.subject`, `%resource.encounter`, `%resource.authored`,
 * `'QuestionnaireResponse/' + %resource.id` and the performer's `iif(%resource…)` in every template
 * (half of all template evaluations). Such an expression's result depends only on the variables it
 * names (expression-reads.ts), compared with `===`: the response, the Questionnaire, allocated ids and
 * named contexts, none of which changes during one `extractResources` call, which this lives for.
 * Expressions that read the context are run each time (their contexts are mostly new objects: keeping
 * their results cost more than it saved). Errors are not kept: the expression runs and fails again,
 * reported each time as before. Object results are kept as private copies and handed out as fresh
 * copies, so no two resources share a value; typed nodes (contexts) are shared, as nobody writes them.
 */
export class ExpressionMemo {
  private readonly kept = new Map<CompiledFhirPath, Kept[]>();

  evaluate(
    expression: CompiledExpression,
    mode: Mode,
    base: string | undefined,
    context: unknown,
    env: FhirPathEnv
  ): unknown[] {
    const fn = expression.get(mode, base);
    const reads = expression.reads;
    if (reads === undefined || reads.context) {
      return fn(context, env);
    }
    const names = reads.variables;
    const values = new Array<unknown>(names.length);
    for (let i = 0; i < names.length; i++) {
      if (!Object.hasOwn(env, names[i]!)) {
        return fn(context, env); // fhirpath.js supplies it, or fails: not an input we can compare
      }
      values[i] = env[names[i]!];
    }
    let list = this.kept.get(fn);
    if (list === undefined) {
      list = [];
      this.kept.set(fn, list);
    }
    for (const kept of list) {
      if (sameValues(kept.values, values)) {
        return mode === 'values' ? kept.results.map(copy) : kept.results.slice();
      }
    }
    const results = fn(context, env);
    if (list.length < KEPT_PER_FUNCTION) {
      list.push({ values, results: mode === 'values' ? results.map(copy) : results.slice() });
    }
    return results;
  }
}

function sameValues(a: readonly unknown[], b: readonly unknown[]): boolean {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      return false;
    }
  }
  return true;
}

function copy(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? copyJson(value) : value;
}
