import { LruCache } from '../lru';

/** The variables of each expression, shared by every run (a run is one response); bounded, as content may be inline. */
const variableNames = new LruCache<string, readonly string[] | null>(4096);

/**
 * Results of FHIRPath expressions reused within one `$apply` run.
 *
 * Every recommendation PlanDefinition of a pathway typically declares the same variables (the
 * response, its case features, the extracted Conditions) over the same `data` Bundle, and many
 * conditions repeat verbatim across PlanDefinitions. A FHIRPath result depends only on the
 * expression, its focus and the variables it names, so an evaluation whose inputs are the very same
 * values (by identity) as an earlier one's gives the earlier result. Because a reused variable value
 * is the same array, the expressions that read it hit the memo too.
 *
 * Sound only while the inputs are not modified: the run uses it for variables and applicability
 * conditions, whose focus is the `data` Bundle and whose variables are content or earlier results,
 * never for dynamic values, whose focus is the request they are writing.
 */
export class ExpressionMemo {
  private readonly entries = new Map<string, MemoEntry[]>();

  /**
   * The earlier result of `expression` on the same focus and variable values, if any.
   * @param expression - the FHIRPath text
   * @param focus - the input node
   * @param env - the `%` variables
   */
  get(expression: string, focus: unknown, env: Readonly<Record<string, unknown>>): unknown[] | undefined {
    return this.find(expression, variablesOf(expression), focus, env);
  }

  /**
   * {@link get} with the expression's variables already known ({@link referencedVariables} of it).
   * @param expression - the FHIRPath text
   * @param names - its variables, or null for an expression that may not be reused
   * @param focus - the input node
   * @param env - the `%` variables
   */
  find(
    expression: string,
    names: readonly string[] | null,
    focus: unknown,
    env: Readonly<Record<string, unknown>>
  ): unknown[] | undefined {
    if (!names) {
      return undefined;
    }
    for (const entry of this.entries.get(expression) ?? []) {
      if (entry.focus === focus && sameValues(entry.values, names, env)) {
        return entry.result;
      }
    }
    return undefined;
  }

  /**
   * Records a result (a no-op for expressions that may not be reused).
   * @param expression - the FHIRPath text
   * @param focus - the input node
   * @param env - the `%` variables the expression ran with
   * @param result - its result
   */
  set(expression: string, focus: unknown, env: Readonly<Record<string, unknown>>, result: unknown[]): void {
    this.record(expression, variablesOf(expression), focus, env, result);
  }

  /**
   * {@link set} with the expression's variables already known.
   * @param expression - the FHIRPath text
   * @param names - its variables ({@link referencedVariables}), or null: nothing is recorded
   * @param focus - the input node
   * @param env - the `%` variables the expression ran with
   * @param result - its result
   */
  record(
    expression: string,
    names: readonly string[] | null,
    focus: unknown,
    env: Readonly<Record<string, unknown>>,
    result: unknown[]
  ): void {
    if (!names) {
      return;
    }
    const entry: MemoEntry = { focus, values: names.map((n) => env[n]), result };
    const list = this.entries.get(expression);
    if (list) {
      list.push(entry);
    } else {
      this.entries.set(expression, [entry]);
    }
  }
}

/**
 * {@link referencedVariables} of an expression, kept across runs.
 * @param expression - the FHIRPath text
 */
export function variablesOf(expression: string): readonly string[] | null {
  let names = variableNames.get(expression);
  if (names === undefined) {
    names = referencedVariables(expression);
    variableNames.set(expression, names);
  }
  return names;
}

interface MemoEntry {
  readonly focus: unknown;
  readonly values: readonly unknown[];
  readonly result: unknown[];
}

function sameValues(
  values: readonly unknown[],
  names: readonly string[],
  env: Readonly<Record<string, unknown>>
): boolean {
  for (let i = 0; i < names.length; i++) {
    if (values[i] !== env[names[i]!]) {
      return false;
    }
  }
  return true;
}

/**
 * Functions whose result depends on when they are called, not only on their input. A function name
 * can also be written delimited (`` `today`() ``) or with a comment before its parenthesis, so
 * backticks and comments outside string literals count as a possible clock read too.
 */
const CLOCK_FUNCTIONS = /\b(now|today|timeOfDay)\s*\(|`|\/\*|\/\//;
const STRING_LITERALS = /'(?:[^'\\]|\\.)*'/g;

/**
 * The `%` variables an expression names (`%name`), or null when its result may differ between two
 * evaluations on the same inputs (it reads the clock) or when a `%` is followed by anything else
 * (a delimited name such as `%'name'`): such expressions are simply not reused. Names are read from
 * the whole text, string literals included, which can only add names: an extra name makes reuse
 * rarer, never wrong.
 * See: https://hl7.org/fhirpath/N1/#environment-variables
 * @param expression - the FHIRPath text
 */
export function referencedVariables(expression: string): readonly string[] | null {
  if (CLOCK_FUNCTIONS.test(expression.replace(STRING_LITERALS, "''"))) {
    return null;
  }
  const names = new Set<string>();
  let percents = 0;
  for (let i = expression.indexOf('%'); i >= 0; i = expression.indexOf('%', i + 1)) {
    percents++;
  }
  let matched = 0;
  for (const match of expression.matchAll(/%([A-Za-z_][A-Za-z0-9_]*)/g)) {
    names.add(match[1]!);
    matched++;
  }
  return matched === percents ? [...names] : null;
}
