import type { CompiledFhirPath, FhirPathEnv } from '../fhirpath/fhirpath';
import { copyJson } from '../json';
import type { CompiledExpression, Mode } from './compiled-expression';

/** One kept result: the context it ran on (only for expressions that read it), the variable values, the results. */
interface Kept {
  readonly context: unknown;
  readonly values: readonly unknown[];
  readonly results: readonly unknown[];
  /** No result is an object: the results are handed out without copying each. */
  readonly primitive: boolean;
}

/** At most this many results are kept per compiled function (one per context and set of variable values). */
const KEPT_PER_FUNCTION = 8;

/**
 * The results of template expressions within one extraction, when they cannot differ from the last
 * time they ran:
 * - an expression that does not read its context: the shipped templates ask `%resource.subject`,
 *   `%resource.encounter`, `%resource.authored`, `'QuestionnaireResponse/' + %resource.id` and the
 *   performer's `iif(%resource…)` in every template. Its result depends only on the variables it names
 *   (expression-reads.ts), compared with `===`: the response, the Questionnaire, allocated ids and
 *   named contexts, none of which changes during one `extractResources` call, which this lives for.
 * - an expression that reads its context, when that context is a typed node this memo handed out
 *   (a context such as `%resource.subject`, then read by `reference` and `display` in every template):
 *   the node is the same object each time, over the same response data, so it is compared with `===`
 *   too. Other contexts (response items, copies narrowed to one answer) are mostly new objects: their
 *   expressions run each time, as keeping their results cost more than it saved.
 * Errors are not kept: the expression runs and fails again, reported each time as before. Object
 * results are kept as private copies and handed out as fresh copies, so no two resources share a
 * value; typed nodes (contexts) are shared, as nobody writes them.
 */
export class ExpressionMemo {
  private readonly kept = new Map<CompiledFhirPath, Kept[]>();
  /** The typed nodes this memo returned as contexts (mode `nodes`): the contexts it may key on. */
  private readonly handedOut = new Set<unknown>();

  evaluate(
    expression: CompiledExpression,
    mode: Mode,
    base: string | undefined,
    context: unknown,
    env: FhirPathEnv
  ): unknown[] {
    const fn = expression.get(mode, base);
    const reads = expression.reads;
    if (reads === undefined || (reads.context && !this.handedOut.has(context))) {
      return fn(context, env);
    }
    const keyContext = reads.context ? context : undefined;
    const names = reads.variables;
    for (let i = 0; i < names.length; i++) {
      if (!Object.hasOwn(env, names[i]!)) {
        return fn(context, env); // fhirpath.js supplies it, or fails: not an input we can compare
      }
    }
    // The variables are compared where they lie: no array of their values per call, only per result kept.
    let list = this.kept.get(fn);
    if (list === undefined) {
      list = [];
      this.kept.set(fn, list);
    } else {
      for (const kept of list) {
        if (kept.context === keyContext && sameValues(kept.values, names, env)) {
          return mode === 'values' && !kept.primitive ? kept.results.map(copy) : kept.results.slice();
        }
      }
    }
    const results = fn(context, env);
    if (mode === 'nodes') {
      for (const node of results) {
        if (typeof node === 'object' && node !== null) {
          this.handedOut.add(node);
        }
      }
    }
    if (list.length < KEPT_PER_FUNCTION) {
      const primitive = results.every(isPrimitive);
      list.push({
        context: keyContext,
        values: names.map((name) => env[name]),
        results: mode === 'values' && !primitive ? results.map(copy) : results.slice(),
        primitive,
      });
    }
    return results;
  }
}

/** Whether the kept values are those of the named variables in `env`, compared with `===`. */
function sameValues(values: readonly unknown[], names: readonly string[], env: FhirPathEnv): boolean {
  for (let i = 0; i < values.length; i++) {
    if (values[i] !== env[names[i]!]) {
      return false;
    }
  }
  return true;
}

function isPrimitive(value: unknown): boolean {
  return typeof value !== 'object' || value === null;
}

function copy(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? copyJson(value) : value;
}
