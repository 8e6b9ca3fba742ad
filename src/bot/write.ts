import type { MedplumClient } from '@medplum/core';
import { OperationOutcomeError } from '@medplum/core';
import type { Bundle, BundleEntry, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { CANONICAL_BASE } from '../core/constants';
import { issue, outcome } from '../core/outcomes';

/**
 * Tag system that keeps the logical id the engine chose for a resource Medplum must name itself
 * (see {@link forMedplum}); the code is that id.
 */
export const ENGINE_ID_TAG_SYSTEM = `${CANONICAL_BASE}/sid/engine-id`;

/**
 * Adapts the engine's transaction to Medplum. The engine writes resources it names itself (the
 * Provenance, whose id is a name-based UUID of the response version) with `PUT Type/id`, an
 * update-as-create that Medplum refuses for a resource that does not exist yet ("Cannot perform
 * create as update with client-assigned ID"; medplum/medplum#5032, #7401). Each such entry becomes
 * a conditional update on a tag holding the engine's id: the first run creates the resource with
 * an id Medplum assigns, every later run of the same response version updates that same resource,
 * exactly as `PUT Type/id` would. Every other entry is already a conditional update and is kept.
 * See: https://hl7.org/fhir/R4/http.html#cond-update
 * @param bundle - The engine's transaction Bundle.
 */
export function forMedplum(bundle: Bundle): Bundle {
  return { ...bundle, entry: (bundle.entry ?? []).map(toMedplumEntry) };
}

function toMedplumEntry(entry: BundleEntry): BundleEntry {
  const resource = entry.resource;
  if (entry.request?.method !== 'PUT' || entry.request.url.includes('?') || !resource?.id) {
    return entry;
  }
  const { id, ...content } = resource as Resource & { id: string };
  const tag = { system: ENGINE_ID_TAG_SYSTEM, code: id };
  return {
    fullUrl: entry.fullUrl,
    resource: { ...content, meta: { ...content.meta, tag: [...(content.meta?.tag ?? []), tag] } } as Resource,
    request: { method: 'PUT', url: `${resource.resourceType}?_tag=${ENGINE_ID_TAG_SYSTEM}|${id}` },
  };
}

/**
 * Executes a transaction and returns where each entry was written, by `fullUrl`, as `Type/id`
 * (nothing, and no request, for a transaction without entries).
 * A transaction the server rejects throws (MedplumClient raises an OperationOutcomeError); a
 * response with a failed entry throws too, with the entries' outcomes (a server that runs a
 * transaction as a batch, like Medplum's in-memory test server, may have written the others).
 * @param medplum - The client.
 * @param bundle - A transaction Bundle.
 */
export async function executeTransaction(
  medplum: MedplumClient,
  bundle: Bundle
): Promise<Map<string, string>> {
  const requests = bundle.entry ?? [];
  if (requests.length === 0) {
    return new Map(); // Medplum refuses an empty transaction, and there is nothing to write.
  }
  const response = await medplum.executeBatch(bundle);
  const results = response.entry ?? [];
  const written = new Map<string, string>();
  const failures: OperationOutcomeIssue[] = [];
  requests.forEach((request, i) => {
    const result = results[i]?.response;
    const where = writtenAs(results[i]);
    if (!result?.status?.startsWith('2') || !where) {
      failures.push(
        issue(
          'error',
          'exception',
          `${request.request?.method ?? '?'} ${request.request?.url ?? '?'} failed: ${result?.status ?? 'no response'}`,
          `Bundle.entry[${i}]`
        ),
        ...((result?.outcome?.issue ?? []) as OperationOutcomeIssue[])
      );
      return;
    }
    if (request.fullUrl) {
      written.set(request.fullUrl, where);
    }
  });
  if (failures.length > 0) {
    throw new OperationOutcomeError(outcome(failures));
  }
  return written;
}

/** `Type/id` of a transaction-response entry: from its resource, else from its `location`. */
function writtenAs(entry: BundleEntry | undefined): string | undefined {
  const resource = entry?.resource;
  if (resource?.id) {
    return `${resource.resourceType}/${resource.id}`;
  }
  const match = /^(?:.*\/)?([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(
    entry?.response?.location ?? ''
  );
  return match ? `${match[1]}/${match[2]}` : undefined;
}
