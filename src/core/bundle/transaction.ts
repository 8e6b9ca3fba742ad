import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';

/**
 * Turns entries into idempotent writes for one transaction:
 * - an entry with `request.ifNoneExist` (a conditional create, as the extraction templates declare it)
 *   becomes a conditional update on the same search (`PUT Condition?identifier=…`), so a resubmission
 *   changes nothing and an amended response updates the same resource in place;
 * - an entry whose resource has an id is written with `PUT Type/id`;
 * - every other entry is rejected: this module never emits a blind create.
 * References between entries stay `urn:uuid:` fullUrls; the server resolves them.
 * See: https://hl7.org/fhir/R4/http.html#cond-update and https://hl7.org/fhir/R4/http.html#trules
 */
export function toIdempotentEntry(entry: BundleEntry): BundleEntry {
  const resource = entry.resource as Resource;
  const condition = entry.request?.ifNoneExist;
  if (condition) {
    return {
      fullUrl: entry.fullUrl,
      resource,
      request: { method: 'PUT', url: `${resource.resourceType}?${condition}` },
    };
  }
  if (resource.id) {
    return {
      fullUrl: entry.fullUrl,
      resource,
      request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` },
    };
  }
  throw new Error(
    `Entry ${entry.fullUrl ?? ''} (${resource.resourceType}) has neither a conditional key nor an id`
  );
}

/** Assembles a transaction Bundle from idempotent entries (none: no `entry`, as FHIR arrays are never empty). */
export function transactionBundle(entries: readonly BundleEntry[], timestamp: Date): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    timestamp: timestamp.toISOString(),
    ...(entries.length > 0 ? { entry: entries.map(toIdempotentEntry) } : {}),
  };
}
