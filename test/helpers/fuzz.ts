import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';
import type fc from 'fast-check';
import type { Validator } from '../../src/core/validation/validator';

/**
 * Runs per property in CI. Their sum is the CI budget (at least 2,000); `FUZZ_RUNS=n` spreads n runs
 * over the properties in the same proportions (`npm run fuzz` defaults to ten times the CI budget), and
 * `FUZZ_SEED` replays a run that fast-check reported.
 */
export const FUZZ_BUDGET = {
  arbitraryJson: 700,
  arbitraryBytes: 300,
  resourceShaped: 300,
  parameters: 250,
  queries: 200,
  validResponses: 60,
  mutatedResponses: 300,
} as const;

const CI_TOTAL = Object.values(FUZZ_BUDGET).reduce((a, b) => a + b, 0);
const SCALE = process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) / CI_TOTAL : 1;

/** The runs of one property at the configured scale. */
export function fuzzRuns(property: keyof typeof FUZZ_BUDGET): number {
  return Math.max(1, Math.round(FUZZ_BUDGET[property] * SCALE));
}

/** fast-check parameters for one property: its runs, and the seed to replay when one is given. */
export function fuzzParameters(property: keyof typeof FUZZ_BUDGET): fc.Parameters<unknown> {
  return {
    numRuns: fuzzRuns(property),
    ...(process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {}),
  };
}

/** A jest timeout for a property whose runs cost about `msPerRun` each (generous: CI machines vary). */
export function fuzzTimeout(property: keyof typeof FUZZ_BUDGET, msPerRun: number): number {
  return 60_000 + fuzzRuns(property) * msPerRun * 4;
}

/** What a fuzzed request got back. */
export interface Answer {
  readonly status: number;
  readonly contentType: string | null;
  readonly body: unknown;
}

/**
 * Sends one request and reads the answer; the body is parsed when it is JSON.
 * @param url - URL.
 * @param init - fetch options.
 */
export async function answerOf(url: string, init: RequestInit): Promise<Answer> {
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (err) {
    // A GET on a kept-alive socket that the server closed while idle (its 5 s keep-alive timeout ran
    // out while a slow check of the previous answer ran) resets before any answer. HTTP clients retry
    // an idempotent request once then (RFC 9112 §9.3.1); a server that really resets fails again.
    const method = (init.method ?? 'GET').toUpperCase();
    const reset = (err as { cause?: { code?: string } }).cause?.code === 'ECONNRESET';
    if (method !== 'GET' || !reset) {
      throw err;
    }
    res = await fetch(url, init);
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: the checks below report it.
  }
  return { status: res.status, contentType: res.headers.get('content-type'), body };
}

/** What a successful answer of each operation is. */
export type Operation =
  | '$re-evaluate'
  | '$extract'
  | '$validate'
  | '$apply'
  | '$expand'
  | '$validate-code'
  | '$lookup'
  | 'search'
  | 'read';

const SUCCESS_TYPE: Record<Operation, string> = {
  '$re-evaluate': 'Bundle',
  $extract: 'Parameters',
  $validate: 'OperationOutcome',
  $apply: 'CarePlan',
  $expand: 'ValueSet',
  '$validate-code': 'Parameters',
  $lookup: 'Parameters',
  search: 'Bundle',
  read: 'Resource',
};

/** Validations already done, by profile and content: searches and reads repeat the same large answers. */
const validated = new Map<string, string[]>();

function errorsOf(validator: Validator, resource: unknown, profile?: string): string[] {
  const key = `${profile ?? ''} ${JSON.stringify(resource)}`;
  let errors = validated.get(key);
  if (errors === undefined) {
    errors = validator
      .validate(resource, profile ? { profile } : {})
      .issues.filter((i) => i.severity === 'error' || i.severity === 'fatal')
      .map((i) => `${i.expression?.[0] ?? ''}: ${i.details?.text ?? i.code}`);
    validated.set(key, errors);
  }
  return errors;
}

/**
 * The properties every answer has: never a 5xx; always FHIR JSON; an error is a valid OperationOutcome
 * with at least one error issue; a success is the operation's output and valid FHIR; for
 * `$re-evaluate`, every resource of the Bundle is valid against each of its profiles.
 * Returns a description of what is wrong, or an empty list.
 * @param operation - The operation called.
 * @param answer - Its answer.
 * @param validator - Our validator.
 */
export function problemsWith(operation: Operation, answer: Answer, validator: Validator): string[] {
  if (answer.status >= 500) {
    return [`HTTP ${answer.status}: ${JSON.stringify(answer.body).slice(0, 300)}`];
  }
  if (answer.contentType !== 'application/fhir+json; charset=utf-8') {
    return [`content-type ${answer.contentType}`];
  }
  const body = answer.body as Resource;
  if (answer.status >= 400) {
    const outcome = body as OperationOutcome;
    if (outcome.resourceType !== 'OperationOutcome') {
      return [`HTTP ${answer.status} with a ${String(outcome.resourceType)}`];
    }
    const errors = (outcome.issue ?? []).filter((i) => i.severity === 'error' || i.severity === 'fatal');
    return [
      ...(errors.length > 0 ? [] : ['an error answer without an error issue']),
      ...errorsOf(validator, outcome),
    ];
  }
  const expected = SUCCESS_TYPE[operation];
  if (expected !== 'Resource' && body.resourceType !== expected) {
    return [`HTTP ${answer.status} with a ${String(body.resourceType)}, not a ${expected}`];
  }
  if (operation !== '$re-evaluate') {
    return errorsOf(validator, body);
  }
  const bundle = body as Bundle;
  const problems = bundle.type === 'transaction' ? [] : [`Bundle type ${bundle.type}`];
  for (const entry of bundle.entry ?? []) {
    const resource = entry.resource as Resource;
    const profiles = resource.meta?.profile ?? [];
    for (const profile of profiles.length > 0 ? profiles : [undefined]) {
      problems.push(
        ...errorsOf(validator, resource, profile).map((p) => `${resource.resourceType} ${profile ?? ''} ${p}`)
      );
    }
  }
  return problems;
}
