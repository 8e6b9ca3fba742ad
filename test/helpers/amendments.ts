import type { Bundle, Condition, Identifier, QuestionnaireResponse, Resource } from '@medplum/fhirtypes';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEY_SYSTEM } from '../../src/core/constants';

export const AMENDMENT_DIR = join(__dirname, '../fixtures/amendments');

/** A golden amendment sequence: `test/fixtures/amendments/<name>/<n>-questionnaire-response.json`, n = 1, 2, … */
export interface AmendmentSequence {
  readonly name: string;
  readonly steps: QuestionnaireResponse[];
  /** The expected transaction Bundle of step n (1-based), from the second step on. */
  expectedFile(step: number): string;
}

export function amendmentSequences(): AmendmentSequence[] {
  return readdirSync(AMENDMENT_DIR)
    .sort()
    .map((name) => {
      const dir = join(AMENDMENT_DIR, name);
      const steps = readdirSync(dir)
        .filter((f) => /^\d+-questionnaire-response\.json$/.test(f))
        .sort((a, b) => parseInt(a, 10) - parseInt(b, 10))
        .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as QuestionnaireResponse);
      return { name, steps, expectedFile: (step: number) => join(dir, `${step}-expected-bundle.json`) };
    });
}

/**
 * What a store holds after the given transactions, by the semantics of their writes (R4 conditional
 * update: each request URL names one resource, and the latest write of it wins). Not a server: the
 * bot tests run the same sequences against Medplum's own.
 */
export function heldAfter(bundles: readonly Bundle[]): Resource[] {
  const byKey = new Map<string, Resource>();
  for (const bundle of bundles) {
    for (const entry of bundle.entry ?? []) {
      byKey.set(entry.request!.url!, entry.resource as Resource);
    }
  }
  return [...byKey.values()];
}

/** The engine key of a resource (its extraction identifier), if it has one. */
export function engineKey(resource: Resource): string | undefined {
  const value = (resource as { identifier?: Identifier[] }).identifier?.find(
    (i) => i.system === KEY_SYSTEM
  )?.value;
  return value === undefined ? undefined : `${resource.resourceType}|${value}`;
}

const OPEN_REQUEST = new Set(['draft', 'active', 'on-hold', 'unknown']);
const OPEN_TASK = new Set(['draft', 'requested', 'received', 'accepted', 'ready', 'in-progress', 'on-hold']);

/**
 * True for a resource that still asserts or asks for something: a Condition neither refuted nor entered
 * in error, or whose clinical status is active; a request, RequestGroup or CarePlan in an open status; a
 * Task not yet ended. (Observations are results, not assertions: never "active" here.)
 */
export function isActive(resource: Resource): boolean {
  if (resource.resourceType === 'Condition') {
    const c = resource as Condition;
    const verification = c.verificationStatus?.coding?.[0]?.code;
    return (
      c.clinicalStatus?.coding?.[0]?.code === 'active' ||
      !['refuted', 'entered-in-error'].includes(verification ?? '')
    );
  }
  if (resource.resourceType === 'Task') {
    return OPEN_TASK.has(resource.status);
  }
  if (
    ['CarePlan', 'RequestGroup', 'ServiceRequest', 'MedicationRequest', 'CommunicationRequest'].includes(
      resource.resourceType
    )
  ) {
    return OPEN_REQUEST.has((resource as { status: string }).status);
  }
  return false;
}

/**
 * The engine keys of the active resources in `held` that the latest evaluation (`supported`: its own
 * Bundle, evaluated without knowledge of the store) does not write: what an amendment left stale.
 */
export function staleActive(held: readonly Resource[], supported: Bundle): string[] {
  const keys = new Set((supported.entry ?? []).map((e) => engineKey(e.resource as Resource)));
  return held
    .filter((r) => isActive(r) && engineKey(r) !== undefined && !keys.has(engineKey(r)))
    .map((r) => engineKey(r)!)
    .sort();
}

/** A resource as a closing write left it (its note is an amendment's). */
export function isClosing(resource: Resource): boolean {
  return (
    (resource as { note?: { text?: string }[] }).note?.some((n) => n.text?.startsWith('The amended')) === true
  );
}

/**
 * What the golden sequence leaves in a store, by conditional key (the request URL): the last write
 * of each key, with the keys of the fullUrls its references use. Each evaluation numbers its
 * fullUrls from 1, and a closing write is a copy of the stored resource, whose references are those
 * of the Bundle that wrote it before.
 * @param bundles - The Bundles of the steps, in order.
 */
export function goldenStore(
  bundles: readonly Bundle[]
): Map<string, { resource: Resource; keyOf: Map<string, string> }> {
  const final = new Map<string, { resource: Resource; keyOf: Map<string, string> }>();
  for (const bundle of bundles) {
    const keyOfFullUrl = new Map((bundle.entry ?? []).map((e) => [e.fullUrl!, e.request!.url!]));
    for (const entry of bundle.entry ?? []) {
      const before = final.get(entry.request!.url!);
      final.set(entry.request!.url!, {
        resource: entry.resource!,
        keyOf: isClosing(entry.resource!) && before ? before.keyOf : keyOfFullUrl,
      });
    }
  }
  return final;
}

/** The golden Bundles of a sequence: the first step evaluated afresh, the others from their files. */
export function goldenBundles(sequence: AmendmentSequence, first: Bundle): Bundle[] {
  return sequence.steps.map((_r, i) =>
    i === 0 ? first : (JSON.parse(readFileSync(sequence.expectedFile(i + 1), 'utf8')) as Bundle)
  );
}
