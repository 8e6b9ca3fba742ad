/**
 * Splits a transaction Bundle into smaller transactions that a server can run one after another,
 * and points the later ones at what the earlier ones wrote. Pure: no client, no I/O. The one chunker of
 * the project: the Medplum bot and the server's upstream mode both write through it.
 *
 * Inside one transaction the server resolves `urn:uuid:` references between entries itself. Across
 * transactions it cannot, so a resource must be sent after everything it references (dependency
 * order, from the references themselves), and its references to resources already written must be
 * rewritten to the `Type/id` the server assigned.
 * See: https://hl7.org/fhir/R4/http.html#trules
 */
import type { Bundle, BundleEntry, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { issue, ReFhirError } from '../outcomes';

/** A `urn:uuid:` URI anywhere in a string (a reference, a uri element, a link in the narrative). */
const URN_UUID = /urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/g;

/**
 * The entries in dependency order: every entry after each entry whose `fullUrl` it mentions as a
 * `urn:uuid:` (its references), and otherwise in Bundle order. An entry that mentions its own
 * fullUrl does not depend on itself (the server resolves that within the entry's own request).
 * Throws an internal ReFhirError naming the entries when two entries share a fullUrl (bdl-7), or
 * when references form a cycle (no order writes each resource after what it references).
 * @param entries - The transaction's entries.
 */
export function dependencyOrder(entries: readonly BundleEntry[]): BundleEntry[] {
  const dependencies = dependenciesOf(entries);
  const dependents = entries.map((): number[] => []);
  const waitingFor = dependencies.map((d) => d.size);
  dependencies.forEach((on, i) => on.forEach((j) => dependents[j]!.push(i)));

  // Kahn's algorithm, always taking the earliest ready entry, so that unrelated entries keep the
  // engine's order and the result is deterministic.
  const ready = entries.map((_, i) => i).filter((i) => waitingFor[i] === 0);
  const order: number[] = [];
  while (ready.length > 0) {
    const next = ready.shift()!;
    order.push(next);
    for (const dependent of dependents[next]!) {
      waitingFor[dependent]! -= 1;
      if (waitingFor[dependent] === 0) {
        insertSorted(ready, dependent);
      }
    }
  }
  if (order.length < entries.length) {
    throw cycleError(entries, dependencies, new Set(order));
  }
  return order.map((i) => entries[i]!);
}

/**
 * Splits a transaction into transactions of at most `maxEntries` entries, in dependency order
 * ({@link dependencyOrder}): each entry's references point into its own transaction or an earlier
 * one. A Bundle that fits is returned as it is, a one-element list: inside one transaction the
 * server resolves references in any order, cycles included.
 * @param bundle - A transaction Bundle.
 * @param maxEntries - The most entries the server accepts in one transaction (a positive integer).
 */
export function splitTransaction(bundle: Bundle, maxEntries: number): Bundle[] {
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new ReFhirError('internal', [
      issue('error', 'processing', `Cannot split a transaction into parts of ${maxEntries} entries`),
    ]);
  }
  const entries = bundle.entry ?? [];
  if (entries.length <= maxEntries) {
    return [bundle];
  }
  const ordered = dependencyOrder(entries);
  const parts: Bundle[] = [];
  for (let start = 0; start < ordered.length; start += maxEntries) {
    parts.push({ ...bundle, entry: ordered.slice(start, start + maxEntries) });
  }
  return parts;
}

/**
 * The Bundle with every `urn:uuid:` in its resources that names a resource already written
 * replaced by where it was written (`Type/id`), as the server would have done had both been in
 * one transaction. Other placeholders (entries of this Bundle) and `fullUrl`s are kept, so the
 * server still resolves references within the Bundle. The input is not modified.
 * @param bundle - A transaction Bundle (one part from {@link splitTransaction}).
 * @param written - `Type/id` by the fullUrl of each resource already written.
 */
export function resolveWritten(bundle: Bundle, written: ReadonlyMap<string, string>): Bundle {
  const rewrite = (value: unknown): unknown => {
    if (typeof value === 'string') {
      return value.replace(URN_UUID, (uri) => written.get(uri) ?? uri);
    }
    if (Array.isArray(value)) {
      return value.map(rewrite);
    }
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, rewrite(v)]));
    }
    return value;
  };
  return {
    ...bundle,
    entry: (bundle.entry ?? []).map((entry) =>
      entry.resource ? { ...entry, resource: rewrite(entry.resource) as Resource } : entry
    ),
  };
}

/** For each entry, the indexes of the other entries its resource mentions by fullUrl. */
function dependenciesOf(entries: readonly BundleEntry[]): Set<number>[] {
  const indexOf = new Map<string, number>();
  entries.forEach((entry, i) => {
    if (!entry.fullUrl) {
      return;
    }
    const first = indexOf.get(entry.fullUrl);
    if (first !== undefined) {
      throw new ReFhirError('internal', [
        issue('error', 'duplicate', `Two entries have the fullUrl ${entry.fullUrl}`, [
          `Bundle.entry[${first}]`,
          `Bundle.entry[${i}]`,
        ]),
      ]);
    }
    indexOf.set(entry.fullUrl, i);
  });
  return entries.map((entry, i) => {
    const on = new Set<number>();
    for (const uri of mentionedUuids(entry.resource)) {
      const j = indexOf.get(uri);
      if (j !== undefined && j !== i) {
        on.add(j);
      }
    }
    return on;
  });
}

function mentionedUuids(value: unknown, found: string[] = []): string[] {
  if (typeof value === 'string') {
    found.push(...(value.match(URN_UUID) ?? []));
  } else if (Array.isArray(value)) {
    value.forEach((v) => mentionedUuids(v, found));
  } else if (typeof value === 'object' && value !== null) {
    Object.values(value).forEach((v) => mentionedUuids(v, found));
  }
  return found;
}

function insertSorted(list: number[], value: number): void {
  const at = list.findIndex((v) => v > value);
  list.splice(at === -1 ? list.length : at, 0, value);
}

/**
 * Every entry left unordered waits for another unordered one, so following those waits from any
 * of them must come back to an entry already seen: that loop is the cycle reported.
 */
function cycleError(
  entries: readonly BundleEntry[],
  dependencies: readonly Set<number>[],
  ordered: ReadonlySet<number>
): ReFhirError {
  const path: number[] = [];
  let at = entries.findIndex((_, i) => !ordered.has(i));
  while (!path.includes(at)) {
    path.push(at);
    at = [...dependencies[at]!].find((j) => !ordered.has(j))!;
  }
  const cycle = [...path.slice(path.indexOf(at)), at];
  const describe = (i: number): string =>
    `Bundle.entry[${i}] (${entries[i]!.resource?.resourceType ?? 'no resource'} ${entries[i]!.fullUrl ?? ''})`;
  const problem: OperationOutcomeIssue = issue(
    'error',
    'processing',
    `The entries reference each other in a cycle, so no order writes each resource after what it references: ${cycle
      .map(describe)
      .join(' → ')}`,
    [...new Set(cycle)].map((i) => `Bundle.entry[${i}]`)
  );
  return new ReFhirError('internal', [problem]);
}

/**
 * `Type/id` of a transaction-response entry: from its `location` (where R4 puts it), else from the
 * resource returned with it.
 * See: https://hl7.org/fhir/R4/bundle-definitions.html#Bundle.entry.response.location
 */
export function writtenAs(entry: BundleEntry | undefined): string | undefined {
  const match = /^(?:.*\/)?([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(
    entry?.response?.location ?? ''
  );
  if (match) {
    return `${match[1]}/${match[2]}`;
  }
  const resource = entry?.resource;
  return resource?.id ? `${resource.resourceType}/${resource.id}` : undefined;
}
