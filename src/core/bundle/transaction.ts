import type { Bundle, BundleEntry, Reference, Resource } from '@medplum/fhirtypes';

/**
 * Turns entries into idempotent writes for one transaction:
 * - an entry with `request.ifNoneExist` (a conditional create, as the extraction templates declare it)
 *   becomes a conditional update on the same search, narrowed to the resource's own patient
 *   (`PUT Condition?identifier=…&subject=Patient/p`), so a resubmission changes nothing, an amended
 *   response updates the same resource in place, and a key can never select another patient's record
 *   (the identifier is built from a response id the client chose; see {@link patientSearch});
 * - an entry whose resource has an id is written with `PUT Type/id`;
 * - every other entry is rejected: this module never emits a blind create.
 * References between entries stay `urn:uuid:` fullUrls; the server resolves them.
 * See: https://hl7.org/fhir/R4/http.html#cond-update and https://hl7.org/fhir/R4/http.html#trules
 */
export function toIdempotentEntry(entry: BundleEntry): BundleEntry {
  const resource = entry.resource as Resource;
  const condition = entry.request?.ifNoneExist;
  if (condition) {
    const patient = patientSearch(resource);
    const search = patient && !hasTerm(condition, patient) ? `${condition}&${patient}` : condition;
    return {
      fullUrl: entry.fullUrl,
      resource,
      request: { method: 'PUT', url: `${resource.resourceType}?${search}` },
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

/**
 * Whether `term` is one of the `&`-separated terms of `search` (what `&search&` including `&term&`
 * says, without building either string). `term` has no `&`: {@link searchValue} escapes it.
 */
function hasTerm(search: string, term: string): boolean {
  for (let at = search.indexOf(term); at >= 0; at = search.indexOf(term, at + 1)) {
    const end = at + term.length;
    if ((at === 0 || search[at - 1] === '&') && (end === search.length || search[end] === '&')) {
      return true;
    }
  }
  return false;
}

/**
 * The search term that keeps a conditional write inside the resource's own patient: `subject=…` from
 * `subject` (or from Task's `for`, which R4's Task `subject` parameter searches), else `patient=…` from
 * `patient`. Undefined for a resource with no such reference (nothing to narrow by).
 * See: https://hl7.org/fhir/R4/searchparameter-registry.html
 */
export function patientSearch(resource: Resource): string | undefined {
  const r = resource as { subject?: Reference; for?: Reference; patient?: Reference };
  const subject = r.subject?.reference ?? (resource.resourceType === 'Task' ? r.for?.reference : undefined);
  if (subject) {
    return `subject=${searchValue(subject)}`;
  }
  return r.patient?.reference ? `patient=${searchValue(r.patient.reference)}` : undefined;
}

/** A reference as a query value: `/` and `:` stay readable, anything that could end the term is escaped. */
function searchValue(reference: string): string {
  return UNSAFE.test(reference) ? reference.replace(UNSAFE_ALL, (c) => encodeURIComponent(c)) : reference;
}
const UNSAFE = /[^A-Za-z0-9\-._~/:]/;
const UNSAFE_ALL = /[^A-Za-z0-9\-._~/:]/g;

/** Assembles a transaction Bundle from idempotent entries; with none, it has no `entry` (FHIR arrays are never empty). */
export function transactionBundle(entries: readonly BundleEntry[], timestamp: Date): Bundle {
  const bundle: Bundle = { resourceType: 'Bundle', type: 'transaction', timestamp: timestamp.toISOString() };
  if (entries.length > 0) {
    bundle.entry = entries.map(toIdempotentEntry);
  }
  return bundle;
}
