import type {
  Annotation,
  Bundle,
  BundleEntry,
  CodeableConcept,
  Condition,
  Identifier,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
  Reference,
  Resource,
} from '@medplum/fhirtypes';
import { CANONICAL_BASE, KEY_SYSTEM, SYSTEM } from '../constants';
import { isObject } from '../json';
import { escapeXhtml, withNarrative } from '../narrative/narrative';
import { issue, ReFhirError } from '../outcomes';
import { nameUuid } from './uuid';

/** What an earlier evaluation of the same response wrote: resources, or a Bundle of them (a searchset). */
export type PreviousWrites = readonly Resource[] | Bundle;

/** The resource types an evaluation writes that can be left stale by an amendment, and how each closes. */
const CLOSABLE = {
  Condition: 'condition',
  CarePlan: 'request',
  RequestGroup: 'request',
  ServiceRequest: 'request',
  MedicationRequest: 'medication',
  CommunicationRequest: 'request',
  Task: 'task',
} as const;
type ClosableType = keyof typeof CLOSABLE;

/**
 * The resource types {@link closingEntries} reads from the previous writes (what a host searches for).
 * Observations are not among them: an Observation is a reported result, updated in place when its
 * answer changes; nothing is planned on it alone.
 */
export const CLOSABLE_TYPES: readonly ClosableType[] = Object.keys(CLOSABLE) as ClosableType[];

/** Statuses in which a resource asserts or asks for nothing any more: it needs no closing. */
const CLOSED = {
  condition: new Set(['refuted', 'entered-in-error']),
  request: new Set(['revoked', 'completed', 'entered-in-error']),
  medication: new Set(['cancelled', 'stopped', 'completed', 'entered-in-error']),
  task: new Set(['cancelled', 'completed', 'failed', 'rejected', 'entered-in-error']),
};

const ITEM_SYSTEM = `${CANONICAL_BASE}/CodeSystem/re-item`;

type Keyed = Resource & { identifier?: Identifier[]; note?: Annotation[] };

/**
 * The closing writes of an amendment: every resource an earlier evaluation of the same response wrote
 * (`previous`) that the new evaluation (`written`) no longer writes, and that is still open, comes back
 * closed, to go in the same transaction:
 * - a Condition: `verificationStatus` refuted and `clinicalStatus` inactive (R4 con-3: a problem-list
 *   item keeps a clinical status; con-5 forbids one with entered-in-error, which this engine never
 *   writes: see docs/amendments.md);
 * - a CarePlan, RequestGroup, ServiceRequest or CommunicationRequest: `revoked`;
 * - a MedicationRequest or a Task: `cancelled` (neither status set has `revoked`);
 * each with a note naming the response version that closed it and why. A resource is "written for this
 * response" when it carries an identifier of `keySystem` whose value starts with `{response id}-` and
 * has the response's subject; its closing write is the same conditional update, on that identifier, as
 * the evaluation's own writes, so re-sending it changes nothing. A resource closed by this same
 * response version (its note is this one's) is written again unchanged, so that a resubmission
 * reproduces the same transaction and Provenance; one closed earlier is left as it is.
 * Pure and deterministic: the fullUrls are name-based UUIDs of the keys, the note's time is `authored`.
 * @param response - The (completed) response of the new evaluation.
 * @param written - The new evaluation's entries (its Provenance excluded).
 * @param previous - What was written before for this response (other resources are ignored).
 * @param keySystem - Identifier system of the conditional keys.
 */
export function closingEntries(
  response: QuestionnaireResponse,
  written: readonly BundleEntry[],
  previous: PreviousWrites,
  keySystem: string = KEY_SYSTEM
): BundleEntry[] {
  const supported = new Set(
    written.flatMap((e) => {
      const key = responseKey(e.resource as Resource, response, keySystem);
      return key ? [`${e.resource!.resourceType}|${key}`] : [];
    })
  );
  const seen = new Set<string>();
  const entries: { id: string; entry: BundleEntry }[] = [];
  for (const resource of previousResources(previous)) {
    if (!(resource.resourceType in CLOSABLE) || !sameSubject(resource, response)) {
      continue;
    }
    const key = responseKey(resource, response, keySystem);
    const id = `${resource.resourceType}|${key}`;
    if (key === undefined || supported.has(id) || seen.has(id)) {
      continue;
    }
    seen.add(id);
    const note = closingNote(resource, response);
    const open = !CLOSED[CLOSABLE[resource.resourceType as ClosableType]].has(statusOf(resource) ?? '');
    const closedByThis = (resource as Keyed).note?.some((n) => n.text === note.text) === true;
    if (!open && !closedByThis) {
      continue;
    }
    entries.push({
      id,
      entry: {
        fullUrl: `urn:uuid:${nameUuid(`closing|${id}`)}`,
        resource: narrated(closed(resource, note), resource, note),
        request: {
          method: 'POST',
          url: resource.resourceType,
          ifNoneExist: `identifier=${keySystem}|${key}`,
        },
      },
    });
  }
  // Sorted by type and key: the output does not depend on the order the server listed them in.
  return entries.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((e) => e.entry);
}

/**
 * The key value tying a resource to the response: its `keySystem` identifier whose value starts with
 * `{response id}-`. With UUID ids (as Medplum requires) no other response's keys can start so; with
 * free-text ids, `a` and `a-b` of the same subject would overlap (see docs/amendments.md).
 */
export function responseKey(
  resource: Resource,
  response: QuestionnaireResponse,
  keySystem: string = KEY_SYSTEM
): string | undefined {
  if (!response.id) {
    return undefined;
  }
  const prefix = `${response.id}-`;
  const identifiers = (resource as Keyed).identifier;
  return (Array.isArray(identifiers) ? identifiers : []).find(
    (i) => isObject(i) && i.system === keySystem && typeof i.value === 'string' && i.value.startsWith(prefix)
  )?.value;
}

/** True when the resource is about the response's subject (`Task.for`, else `subject`). */
export function sameSubject(resource: Resource, response: QuestionnaireResponse): boolean {
  const wanted = response.subject?.reference;
  const own = resource.resourceType === 'Task' ? resource.for : (resource as { subject?: Reference }).subject;
  return wanted !== undefined && isObject(own) && own.reference === wanted;
}

/** The resources of `previous`, checked to be resources at all (anything else is a 400). */
function previousResources(previous: PreviousWrites): Resource[] {
  const list: unknown[] = isObject(previous)
    ? (previous as Bundle).resourceType === 'Bundle'
      ? ((previous as Bundle).entry ?? []).map((e) => (isObject(e) ? e.resource : undefined))
      : [previous]
    : Array.isArray(previous)
      ? previous
      : [previous];
  return list.map((resource, i) => {
    if (!isObject(resource) || typeof resource.resourceType !== 'string') {
      throw new ReFhirError('structural', [
        issue('error', 'structure', `Previous write ${i} is not a FHIR resource`, `previous[${i}]`),
      ]);
    }
    return resource as unknown as Resource;
  });
}

function statusOf(resource: Resource): string | undefined {
  if (resource.resourceType === 'Condition') {
    return resource.verificationStatus?.coding?.find((c) => c.system === SYSTEM.conditionVerStatus)?.code;
  }
  return (resource as { status?: string }).status;
}

/**
 * A copy of the stored resource, closed: server-assigned `id` and `meta` dropped (the conditional key
 * finds it; its profiles stay), the stale narrative dropped for a new one, and the note added.
 */
function closed(resource: Resource, note: Annotation): Resource {
  const copy = { ...resource } as Keyed & { text?: unknown };
  const meta = copy.meta;
  delete copy.id;
  delete copy.meta;
  delete copy.text;
  if (meta?.profile) {
    copy.meta = { profile: meta.profile };
  }
  copy.note = [...(copy.note ?? []).filter((n) => n.text !== note.text), note];
  switch (CLOSABLE[resource.resourceType as ClosableType]) {
    case 'condition':
      return {
        ...(copy as Condition),
        clinicalStatus: concept(SYSTEM.conditionClinical, 'inactive', 'Inactive'),
        verificationStatus: concept(SYSTEM.conditionVerStatus, 'refuted', 'Refuted'),
      } as Condition;
    case 'task':
    case 'medication': // R4 medicationrequest-status has no `revoked`: withdrawn before use is `cancelled`
      return { ...copy, status: 'cancelled' } as Resource;
    default:
      return { ...copy, status: 'revoked' } as Resource;
  }
}

/**
 * The closed resource with a narrative that shows its new status: the generated one where this module
 * generates one (Conditions, requests, Tasks), else (a CarePlan, a RequestGroup, whose narrative
 * `$apply` wrote) the status and the reason, followed by the stored narrative as it was.
 */
function narrated(closedResource: Resource, stored: Resource, note: Annotation): Resource {
  const generated = withNarrative(closedResource);
  if ('text' in generated && generated.text) {
    return generated;
  }
  const before = (stored as { text?: { div?: string } }).text?.div;
  const inner = before ? (/^<div[^>]*>([\s\S]*)<\/div>\s*$/.exec(before)?.[1] ?? '') : '';
  const status = (closedResource as { status?: string }).status ?? '';
  const head = `<p><b>${escapeXhtml(status)}</b>: ${escapeXhtml(note.text ?? '')}</p>`;
  // Closed again by the same version (a resubmission): the reason is already at the head.
  const rest = inner.startsWith(head) ? inner.slice(head.length) : inner;
  return {
    ...closedResource,
    text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${head}${rest}</div>` },
  } as Resource;
}

/** Why the resource is closed, by which response version; for a Condition, whether its grounds stand. */
function closingNote(resource: Resource, response: QuestionnaireResponse): Annotation {
  const version = `QuestionnaireResponse/${response.id}${response.authored ? ` (authored ${response.authored})` : ''}`;
  let why = `The amended ${version} no longer supports this ${resource.resourceType}`;
  if (resource.resourceType === 'Condition') {
    const withdrawn = withdrawnEvidence(resource, response);
    why +=
      withdrawn.length > 0
        ? `: the answers it rested on were changed or withdrawn (${withdrawn.join(', ')}).`
        : ': its evidence still stands, and the amended answers rule it out.';
  } else {
    why += ': the rule that proposed it no longer applies.';
  }
  return { text: why, ...(response.authored ? { time: response.authored } : {}) };
}

/**
 * The evidence codes of a Condition that the amended response no longer holds: an item of the
 * Questionnaire (re-item code = linkId) no longer answered, or answered `false`; any other code (a drug,
 * a diabetes type) no longer among the answers.
 */
function withdrawnEvidence(condition: Condition, response: QuestionnaireResponse): string[] {
  const answers = new Map<string, unknown[]>();
  const codes = new Set<string>();
  const walk = (items: readonly QuestionnaireResponseItem[] | undefined): void => {
    for (const item of items ?? []) {
      for (const answer of item.answer ?? []) {
        const values = answers.get(item.linkId) ?? [];
        values.push(answer);
        answers.set(item.linkId, values);
        if (answer.valueCoding) {
          codes.add(`${answer.valueCoding.system}|${answer.valueCoding.code}`);
        }
        walk(answer.item);
      }
      walk(item.item);
    }
  };
  walk(response.item);
  const holds = (system: string | undefined, code: string | undefined): boolean =>
    system === ITEM_SYSTEM
      ? (answers.get(code ?? '') ?? []).some((a) => (a as { valueBoolean?: boolean }).valueBoolean !== false)
      : codes.has(`${system}|${code}`);
  return (condition.evidence ?? [])
    .flatMap((e) => e.code ?? [])
    .flatMap((c) => c.coding ?? [])
    .filter((c) => !holds(c.system, c.code))
    .map((c) => c.code ?? '?');
}

function concept(system: string, code: string, display: string): CodeableConcept {
  return { coding: [{ system, code, display }] };
}

/** One search a host runs to find what earlier evaluations of a response wrote. */
export interface PreviousWritesSearch {
  readonly resourceType: ClosableType;
  /** Search parameters: the response's subject and any identifier of the key system. */
  readonly query: Readonly<Record<string, string>>;
}

/**
 * The searches that find every resource an evaluation of `response` may have written and may need
 * closing: per type, `subject={response subject}&identifier={keySystem}|` (any key of our system: a
 * search cannot match an identifier's prefix, so {@link closingEntries} keeps those of this response).
 * None unless the response is `amended`: a completed response that changes becomes amended (R4
 * QuestionnaireResponse.status), so only an amended one can differ from what was evaluated before,
 * and the searches are not spent (Medplum counts them against its quota) on every first submission.
 * None without a subject or an id either: such a response has no keys to find.
 * @param response - The response about to be evaluated.
 * @param keySystem - Identifier system of the conditional keys.
 */
export function previousWritesSearches(
  response: QuestionnaireResponse,
  keySystem: string = KEY_SYSTEM
): PreviousWritesSearch[] {
  const subject = response.subject?.reference;
  if (
    response.status !== 'amended' ||
    typeof subject !== 'string' ||
    !subject ||
    typeof response.id !== 'string' ||
    !response.id
  ) {
    return [];
  }
  return CLOSABLE_TYPES.map((resourceType) => ({
    resourceType,
    query: { subject, identifier: `${keySystem}|` },
  }));
}
