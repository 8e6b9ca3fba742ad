import { compile, resolveInternalTypes } from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import { copyJson } from '../json';
import { PairCache } from '../lru';
import type { FastFhirPath } from './compile';
import { compileFast, RETURNS_OBJECTS } from './compile';

/** Variables visible to an expression as `%name` (pass the names without the `%`). */
export type FhirPathEnv = Record<string, unknown>;

/** A parsed expression, ready to run against any number of inputs. */
export type CompiledFhirPath = (context: unknown, env?: FhirPathEnv) => unknown[];

/** Raised for an expression that does not parse, or that fails while it runs. */
export class FhirPathError extends Error {
  constructor(
    readonly expression: string,
    readonly reason: string
  ) {
    super(`FHIRPath ${JSON.stringify(expression)}: ${reason}`);
    this.name = 'FhirPathError';
  }
}

/**
 * Compiled expressions by base type and text. Bounded: inline content brings expressions of the
 * caller's choosing. The shipped content and the R4 and profile invariants need a few hundred, each
 * looked up on every evaluation, so a hit is two Map look-ups of the strings as given (no LRU
 * reordering, no joined key); every expression among the last 2,048 used is kept.
 */
const COMPILED_KEPT = 4096;
const cache = new PairCache<string, string, CompiledFhirPath>(COMPILED_KEPT);
const nodeCache = new PairCache<string, string, CompiledFhirPath>(COMPILED_KEPT);
const valueCache = new PairCache<string, string, CompiledFhirPath>(COMPILED_KEPT);

/** How many compiled expressions are kept (tests check that the caches stay bounded). */
export function compiledFhirPathCount(): number {
  return cache.size + nodeCache.size + valueCache.size;
}

/** How expressions ran since the last reset: as closures, or by fhirpath.js (and why). */
export interface FhirPathStats {
  /** Evaluations answered by a compiled closure. */
  compiled: number;
  /** Evaluations of expressions the compiler refused, run by fhirpath.js. */
  interpreted: number;
  /** Evaluations a closure handed to fhirpath.js because of the data (see compile.ts's BAIL). */
  handedOver: number;
}
const stats: FhirPathStats = { compiled: 0, interpreted: 0, handedOver: 0 };

/** Counts since the last {@link resetFhirPathStats} (for tests and the benchmark). */
export function fhirPathStats(): FhirPathStats {
  return { ...stats };
}

export function resetFhirPathStats(): void {
  stats.compiled = stats.interpreted = stats.handedOver = 0;
}

/**
 * Whether expressions run as compiled closures (the default) or always by fhirpath.js: the
 * differential tests and the benchmark switch it off to get fhirpath.js's answer for the same call.
 */
let closuresEnabled = true;
export function useCompiledFhirPath(enabled: boolean): void {
  closuresEnabled = enabled;
}

/** One evaluation of a plain-result expression, as seen by {@link observeFhirPath}. */
export interface FhirPathCall {
  readonly expression: string;
  readonly base: string | undefined;
  readonly context: unknown;
  readonly env: FhirPathEnv;
  /** {@link compileFhirPath}, {@link compileFhirPathValues} or {@link compileFhirPathNodes}. */
  readonly mode: 'plain' | 'values' | 'nodes';
}
let observer: ((call: FhirPathCall) => void) | undefined;

/**
 * Calls `fn` before each evaluation of a plain-result expression (undefined stops it): the
 * differential test replays every call of a whole evaluation through both engines.
 */
export function observeFhirPath(fn: ((call: FhirPathCall) => void) | undefined): void {
  observer = fn;
}

/**
 * Compiles an expression once and caches it, so nothing is parsed per call.
 * `base` names the FHIR type of the context node (e.g. `QuestionnaireResponse.item`) when the
 * context is not a resource; fhirpath.js needs it to resolve choice elements such as `answer.value`.
 * Evaluation uses the R4 model. See: https://hl7.org/fhirpath/N1/
 */
export function compileFhirPath(expression: string, base?: string): CompiledFhirPath {
  return compileCached(cache, expression, base, true);
}

/**
 * Like {@link compileFhirPath}, but results keep fhirpath.js's typed nodes, so that a result can be
 * the context of a later expression without losing its FHIR type (needed for choice elements).
 * Convert results with {@link toPlainValues} before putting them into a resource.
 */
export function compileFhirPathNodes(expression: string, base?: string): CompiledFhirPath {
  return compileCached(nodeCache, expression, base, false);
}

/**
 * For results that go straight into a resource: like {@link compileFhirPathNodes} followed by
 * {@link toPlainValues}, but answered by a compiled closure when the expression allows it.
 */
export function compileFhirPathValues(expression: string, base?: string): CompiledFhirPath {
  const cached = valueCache.get(base ?? '', expression);
  if (cached) {
    return cached;
  }
  const nodes = compileFhirPathNodes(expression, base);
  const interpret: CompiledFhirPath = (context, env) => toPlainValues(nodes(context, env));
  const compiled = withClosure(
    compileFast(expression, base, 'values'),
    interpret,
    expression,
    base,
    'values'
  );
  valueCache.set(base ?? '', expression, compiled);
  return compiled;
}

/** Converts results of {@link compileFhirPathNodes} into fresh plain JSON values (deep copies). */
export function toPlainValues(results: unknown[]): unknown[] {
  return (resolveInternalTypes(results) as unknown[]).map((v) =>
    typeof v === 'object' && v !== null ? copyJson(v) : v
  );
}

function compileCached(
  store: PairCache<string, string, CompiledFhirPath>,
  expression: string,
  base: string | undefined,
  resolve: boolean
): CompiledFhirPath {
  const cached = store.get(base ?? '', expression);
  if (cached) {
    return cached;
  }
  let fn: (context: unknown, env?: FhirPathEnv) => unknown[];
  try {
    fn = compile(base ? { base, expression } : expression, r4, {
      resolveInternalTypes: resolve,
      traceFn: discardTrace,
    }) as typeof fn;
  } catch (err) {
    throw new FhirPathError(expression, describe(err));
  }
  const interpret: CompiledFhirPath = (context, env) => {
    try {
      return fn(context, env ?? {});
    } catch (err) {
      throw new FhirPathError(expression, describe(err));
    }
  };
  const mode = resolve ? 'plain' : 'nodes';
  const compiled = withClosure(compileFast(expression, base, mode), interpret, expression, base, mode);
  store.set(base ?? '', expression, compiled);
  return compiled;
}

/**
 * The compiled closure in front of fhirpath.js: the closure answers unless it hands the call over
 * (data outside the compiled subset, or objects to return), and fhirpath.js answers every call of an
 * expression the compiler refused.
 */
function withClosure(
  fast: FastFhirPath | undefined,
  interpret: CompiledFhirPath,
  expression: string,
  base: string | undefined,
  mode: FhirPathCall['mode']
): CompiledFhirPath {
  if (!fast) {
    return (context, env) => {
      observer?.({ expression, base, context, env: env ?? {}, mode });
      stats.interpreted++;
      return interpret(context, env);
    };
  }
  // Once an expression returns objects, fhirpath.js answers it from then on: it marks returned
  // objects with their type (a hidden `__path__` later evaluations read), which closures do not.
  let objects = false;
  return (context, env) => {
    observer?.({ expression, base, context, env: env ?? {}, mode });
    if (closuresEnabled && !objects) {
      try {
        const result = fast(context, env ?? NO_VARIABLES);
        stats.compiled++;
        return result;
      } catch (err) {
        // BAIL, or anything unforeseen in a closure: fhirpath.js gives the answer (or the error).
        stats.handedOver++;
        objects ||= err === RETURNS_OBJECTS;
      }
    } else {
      stats.interpreted++;
    }
    return interpret(context, env);
  };
}

/** The closures only read the variables: one empty set serves every call without any. */
const NO_VARIABLES: FhirPathEnv = Object.freeze({});

/**
 * `trace()` output goes nowhere: fhirpath.js would print it to stdout, outside the logger and its
 * redaction, and the content (an inline Questionnaire) may be the caller's, tracing patient data or
 * forging log lines (issue 14.6). The core has no logger; trace stays the identity function.
 */
function discardTrace(): void {}

/** Compiles (cached) and evaluates in one step. */
export function evaluateFhirPath(
  expression: string,
  context: unknown,
  env?: FhirPathEnv,
  base?: string
): unknown[] {
  return compileFhirPath(expression, base)(context, env);
}

/** FHIRPath truthiness for conditions: a single `true` is true; empty, false or anything else is not. */
export function isTrue(result: unknown[]): boolean {
  return result.length === 1 && result[0] === true;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}
