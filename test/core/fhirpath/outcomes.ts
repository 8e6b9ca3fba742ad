import { compile } from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import type { FastOutput } from '../../../src/core/fhirpath/compile';
import { compileFast } from '../../../src/core/fhirpath/compile';

/** What one engine gave for one call: a value, an error (fhirpath.js), or a hand-over (a closure). */
export type Outcome = { value: unknown } | { error: true } | { handedOver: true };

/** fhirpath.js's answer, the oracle of the compiled closures. */
export function fhirpathJs(
  expression: string,
  context: unknown,
  env: Record<string, unknown>,
  base?: string
): Outcome {
  try {
    const fn = compile(base ? { base, expression } : expression, r4, { traceFn: () => undefined });
    return { value: fn(context, env) };
  } catch {
    return { error: true };
  }
}

/** The compiled closure's answer; it must compile, and a throw is a hand-over to fhirpath.js. */
export function closure(
  expression: string,
  context: unknown,
  env: Record<string, unknown>,
  base?: string,
  output?: FastOutput
): Outcome {
  const fast = compileFast(expression, base, output);
  expect(fast).toBeDefined();
  try {
    return { value: fast!(context, env) };
  } catch {
    return { handedOver: true };
  }
}

/** A fresh copy made in this realm (structuredClone's objects and arrays are of another realm here). */
export function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
