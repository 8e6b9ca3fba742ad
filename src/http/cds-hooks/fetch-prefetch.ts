import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import type { CdsRequest } from '../../core/cds-hooks';
import { resolvePrefetchTemplate } from '../../core/cds-hooks';
import type { CdsHooksConfig } from '../config';
import { httpError } from '../errors';

/** Pages of one search followed at most (a search that goes on is cut, and the error says so). */
const MAX_PAGES = 10;

/**
 * Reads from the client's FHIR server what it did not prefetch (a key absent or `null`), with the
 * `fhirAuthorization` token it granted. Only a `fhirServer` on the configured list is read, and only
 * `next` links under it are followed. Without a usable server the call fails with 412, as CDS Hooks
 * allows when prefetch is missing.
 * See: https://cds-hooks.hl7.org/2.0/#prefetch-data
 * @param templates - the service's prefetch templates
 * @param request - the checked hook request
 * @param config - the CDS Hooks settings
 */
export async function fetchMissingPrefetch(
  templates: Readonly<Record<string, string>>,
  request: CdsRequest,
  config: CdsHooksConfig
): Promise<Record<string, Resource>> {
  const missing = Object.entries(templates).filter(
    ([key]) => request.prefetch?.[key] === undefined || request.prefetch[key] === null
  );
  if (missing.length === 0) {
    return {};
  }
  const keys = missing.map(([key]) => key).join(', ');
  const base = request.fhirServer?.replace(/\/+$/, '');
  if (!base) {
    throw httpError(
      412,
      'incomplete',
      `Prefetch ${keys} is missing and the request names no fhirServer to read it from`
    );
  }
  const allowed = (config.fhirServers ?? []).map((s) => s.replace(/\/+$/, ''));
  if (!allowed.includes(base)) {
    throw httpError(
      412,
      'incomplete',
      `Prefetch ${keys} is missing and the fhirServer is not one this service may read`
    );
  }
  const headers: Record<string, string> = { accept: 'application/fhir+json' };
  if (request.fhirAuthorization) {
    headers.authorization = `Bearer ${request.fhirAuthorization.access_token}`;
  }
  const fetched: Record<string, Resource> = {};
  for (const [key, template] of missing) {
    const query = resolvePrefetchTemplate(template, request.context);
    if (query === undefined) {
      throw httpError(
        412,
        'incomplete',
        `Prefetch ${key} is missing and its template needs context the request lacks`
      );
    }
    fetched[key] = await readAll(`${base}/${query}`, base, headers, config.fetchTimeoutMs ?? 10_000, key);
  }
  return fetched;
}

async function readAll(
  url: string,
  base: string,
  headers: Record<string, string>,
  timeoutMs: number,
  key: string
): Promise<Resource> {
  const first = await read(url, headers, timeoutMs, key);
  if (first.resourceType !== 'Bundle') {
    return first;
  }
  const entries: BundleEntry[] = [...((first as Bundle).entry ?? [])];
  let next = nextLink(first as Bundle);
  for (let page = 1; next; page++) {
    if (page >= MAX_PAGES || !next.startsWith(`${base}/`)) {
      throw httpError(
        502,
        'too-costly',
        `Prefetch ${key}: the FHIR server's search goes beyond ${MAX_PAGES} pages or leaves the server`
      );
    }
    const bundle = await read(next, headers, timeoutMs, key);
    entries.push(...((bundle as Bundle).entry ?? []));
    next = nextLink(bundle as Bundle);
  }
  return { resourceType: 'Bundle', type: 'searchset', entry: entries };
}

function nextLink(bundle: Bundle): string | undefined {
  return bundle.link?.find((l) => l.relation === 'next')?.url;
}

async function read(
  url: string,
  headers: Record<string, string>,
  timeoutMs: number,
  key: string
): Promise<Resource> {
  let res: Response;
  try {
    res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  } catch (err) {
    throw httpError(
      502,
      'transient',
      `Prefetch ${key}: the FHIR server could not be read`,
      {},
      { cause: err }
    );
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw httpError(502, 'exception', `Prefetch ${key}: the FHIR server answered ${res.status}`);
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch (err) {
    throw httpError(
      502,
      'exception',
      `Prefetch ${key}: the FHIR server's answer is not JSON`,
      {},
      { cause: err }
    );
  }
  if (typeof body !== 'object' || body === null || typeof (body as Resource).resourceType !== 'string') {
    throw httpError(502, 'exception', `Prefetch ${key}: the FHIR server's answer is not a FHIR resource`);
  }
  return body as Resource;
}
