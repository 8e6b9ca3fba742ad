import type { BundleEntry, Resource } from '@medplum/fhirtypes';

/** A failed entry of a transaction-response: its index and HTTP status (NaN when it has none). */
export interface EntryFailure {
  readonly index: number;
  readonly status: number;
}

/** The entries that did not succeed (a status that is not 2xx). */
export function entryFailures(entries: readonly BundleEntry[]): EntryFailure[] {
  return entries.flatMap((entry, index) => {
    const status = entry.response?.status ?? '';
    return status.startsWith('2') ? [] : [{ index, status: Number.parseInt(status, 10) }];
  });
}

/**
 * How long the upstream asks us to wait, in milliseconds, or undefined when it does not say:
 * `Retry-After` (seconds or an HTTP date), and Medplum's `RateLimit` header
 * (`"requests";r=59999;t=60, "fhirInteractions";r=0;t=37`: the reset `t` of every exhausted limit).
 * See: https://www.medplum.com/docs/rate-limits and RFC 9110 §10.2.3
 * @param headers - The answer's headers.
 * @param now - The current time, for an HTTP-date Retry-After.
 */
export function retryWaitMs(headers: Headers, now: number): number | undefined {
  const waits: number[] = [];
  const retryAfter = headers.get('retry-after')?.trim();
  if (retryAfter) {
    if (/^\d+$/.test(retryAfter)) {
      waits.push(Number(retryAfter) * 1000);
    } else if (!Number.isNaN(Date.parse(retryAfter))) {
      waits.push(Math.max(0, Date.parse(retryAfter) - now));
    }
  }
  for (const limit of (headers.get('ratelimit') ?? '').split(',')) {
    const remaining = /;\s*r=(\d+)/.exec(limit)?.[1];
    const reset = /;\s*t=(\d+)/.exec(limit)?.[1];
    if (remaining === '0' && reset !== undefined) {
      waits.push(Number(reset) * 1000);
    }
  }
  return waits.length > 0 ? Math.max(...waits) : undefined;
}

/**
 * The permission a 403 most likely wants, in words an administrator can act on. A profiled entry is
 * refused when the token may not read the StructureDefinitions the server validates it against
 * (Medplum does this): the fix is StructureDefinition read, not write access to the type.
 * @param status - The upstream status.
 * @param entry - The entry refused, if the 403 was for one entry.
 * @param what - What was refused as a whole (a read, the transaction), when not an entry.
 */
export function permissionHint(status: number, entry?: BundleEntry, what?: string): string | undefined {
  if (status !== 403) {
    return undefined;
  }
  const resource = entry?.resource as Resource | undefined;
  if (resource?.meta?.profile?.length) {
    return `the upstream refused profile validation or the write: grant StructureDefinition read (system/StructureDefinition.rs) and ${resource.resourceType} create, read, update and search (system/${resource.resourceType}.crus)`;
  }
  if (resource) {
    return `grant ${resource.resourceType} create, read, update and search (system/${resource.resourceType}.crus)`;
  }
  if (what?.startsWith('read of ')) {
    const type = what.slice('read of '.length);
    return `grant ${type} read (system/${type}.rs)`;
  }
  return 'grant the default scope (see docs/upstream.md), including StructureDefinition read';
}
