import type { Bundle, CodeableConcept, Resource } from '@medplum/fhirtypes';
import { isObject } from '../json';
import type { RecordQuery } from './types';

/** A search the in-memory record cannot answer: the query uses a parameter it does not implement. */
export class UnsupportedSearch extends Error {
  constructor(
    readonly query: string,
    reason: string
  ) {
    super(`Search ${JSON.stringify(query)} cannot run against the record: ${reason}`);
    this.name = 'UnsupportedSearch';
  }
}

type Getter = (r: Record<string, unknown>) => unknown;

/** The element each token/date search parameter reads, per resource type (R4 search parameter definitions). */
const CODE: Record<string, Getter> = {
  Condition: (r) => r.code,
  Procedure: (r) => r.code,
  Observation: (r) => r.code,
  MedicationRequest: (r) => r.medicationCodeableConcept,
  MedicationStatement: (r) => r.medicationCodeableConcept,
};
const DATE: Record<string, Getter> = {
  Observation: (r) => r.effectiveDateTime ?? r.effectiveInstant ?? periodStart(r.effectivePeriod) ?? r.issued,
  Procedure: (r) => r.performedDateTime ?? periodStart(r.performedPeriod),
  Condition: (r) => r.recordedDate,
};

function periodStart(p: unknown): unknown {
  return isObject(p) ? p.start : undefined;
}

/** Parameters implemented, and the reason for each: only what the shipped content's queries use. */
const SUPPORTED = new Set([
  'patient',
  'subject',
  'code',
  'status',
  'clinical-status',
  'date',
  '_sort',
  '_count',
]);

/**
 * Answers the content's `x-fhir-query` searches from the patient's record given as resources (any
 * Bundle), with the R4 semantics of the few parameters the content uses: `patient`/`subject`
 * (reference), `code`, `status`, `clinical-status` (token, comma = or), `date` (ge/gt/le/lt/eq),
 * `_sort=-date|date`, `_count`. Any other parameter throws {@link UnsupportedSearch}: an unknown
 * filter silently ignored would pre-fill answers from records the query meant to exclude.
 * @param record - The patient's resources.
 */
export function recordQuery(record: Bundle | readonly Resource[]): RecordQuery {
  const resources = (
    Array.isArray(record) ? record : ((record as Bundle).entry ?? []).map((e) => e.resource)
  ).filter((r): r is Resource => isObject(r) && typeof r.resourceType === 'string');
  return (query) => Promise.resolve(searchRecord(resources, query));
}

/** Runs one search over resources in memory (see {@link recordQuery}). */
export function searchRecord(resources: readonly Resource[], query: string): Bundle {
  const [type, search = ''] = splitQuery(query);
  const params = new URLSearchParams(search);
  for (const name of params.keys()) {
    if (!SUPPORTED.has(name)) {
      throw new UnsupportedSearch(query, `parameter ${name} is not supported`);
    }
    // Checked before any resource is looked at: a record without that type must fail the same way.
    if (
      (name === 'code' && !CODE[type]) ||
      ((name === 'date' || params.get('_sort') !== null) && !DATE[type])
    ) {
      throw new UnsupportedSearch(query, `${name === 'code' ? 'code' : 'date'} is not supported on ${type}`);
    }
  }
  let hits = resources.filter((r) => r.resourceType === type) as unknown as Record<string, unknown>[];
  for (const [name, value] of params) {
    if (name === '_sort' || name === '_count') {
      continue;
    }
    hits = hits.filter((r) => matches(type, r, name, value, query));
  }
  const sort = params.get('_sort');
  if (sort !== null) {
    if (sort !== 'date' && sort !== '-date') {
      throw new UnsupportedSearch(query, `_sort=${sort} is not supported`);
    }
    const sign = sort === '-date' ? -1 : 1;
    hits = [...hits].sort(
      (a, b) => sign * (instant(dateOf(type, a, query)) - instant(dateOf(type, b, query)))
    );
  }
  const count = params.get('_count');
  if (count !== null) {
    if (!/^\d+$/.test(count)) {
      throw new UnsupportedSearch(query, `_count=${count} is not a number`);
    }
    hits = hits.slice(0, Number(count));
  }
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: hits.length,
    entry: hits.map((r) => ({ resource: r as unknown as Resource, search: { mode: 'match' } })),
  };
}

function splitQuery(query: string): [string, string?] {
  const at = query.indexOf('?');
  const type = at < 0 ? query : query.slice(0, at);
  if (!/^[A-Z][A-Za-z]+$/.test(type)) {
    throw new UnsupportedSearch(query, 'it is not a search of the form Type?parameters');
  }
  return at < 0 ? [type] : [type, query.slice(at + 1)];
}

function matches(
  type: string,
  r: Record<string, unknown>,
  name: string,
  value: string,
  query: string
): boolean {
  switch (name) {
    case 'patient':
    case 'subject':
      return isPatientReference(r.subject, value) || isPatientReference(r.patient, value);
    case 'code': {
      const get = CODE[type];
      if (!get) {
        throw new UnsupportedSearch(query, `code is not supported on ${type}`);
      }
      return tokenMatch(get(r), value);
    }
    case 'status':
      return value.split(',').includes(String(r.status));
    case 'clinical-status':
      return tokenMatch(r.clinicalStatus, value);
    case 'date':
      return dateMatch(dateOf(type, r, query), value, query);
    default:
      return false;
  }
}

function isPatientReference(ref: unknown, value: string): boolean {
  if (!isObject(ref) || typeof ref.reference !== 'string') {
    return false;
  }
  const id = value.startsWith('Patient/') ? value.slice('Patient/'.length) : value;
  return ref.reference === `Patient/${id}` || ref.reference.endsWith(`/Patient/${id}`);
}

/** Token search on a CodeableConcept: `system|code`, `code` or `system|`; comma-separated values are "or". */
function tokenMatch(concept: unknown, value: string): boolean {
  const codings =
    isObject(concept) && Array.isArray((concept as CodeableConcept).coding)
      ? (concept as CodeableConcept).coding!
      : [];
  return value.split(',').some((token) => {
    const bar = token.indexOf('|');
    const system = bar < 0 ? undefined : token.slice(0, bar);
    const code = bar < 0 ? token : token.slice(bar + 1);
    return codings.some(
      (c) => (system === undefined || (c.system ?? '') === system) && (code === '' || c.code === code)
    );
  });
}

function dateOf(type: string, r: Record<string, unknown>, query: string): unknown {
  const get = DATE[type];
  if (!get) {
    throw new UnsupportedSearch(query, `date is not supported on ${type}`);
  }
  return get(r);
}

/** Milliseconds since the epoch; a date without a time is its first instant in UTC; none sorts first. */
export function instant(value: unknown): number {
  if (typeof value !== 'string') {
    return Number.NEGATIVE_INFINITY;
  }
  const t = Date.parse(/^\d{4}(-\d{2}){0,2}$/.test(value) ? normaliseDate(value) : value);
  return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
}

function normaliseDate(value: string): string {
  const [y, m = '01', d = '01'] = value.split('-');
  return `${y}-${m}-${d}T00:00:00Z`;
}

function dateMatch(value: unknown, param: string, query: string): boolean {
  const m = /^(ge|gt|le|lt|eq)?(\d{4}(-\d{2}){0,2}(T[0-9:.]+(Z|[+-]\d{2}:\d{2})?)?)$/.exec(param);
  if (!m) {
    throw new UnsupportedSearch(query, `date=${param} is not a date search this record supports`);
  }
  const t = instant(value);
  if (t === Number.NEGATIVE_INFINITY) {
    return false;
  }
  const bound = instant(m[2]);
  switch (m[1] ?? 'eq') {
    case 'ge':
      return t >= bound;
    case 'gt':
      return t > bound;
    case 'le':
      return t <= bound;
    case 'lt':
      return t < bound;
    default:
      return t === bound;
  }
}
