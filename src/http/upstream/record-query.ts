import type { RecordQuery } from '../../core/populate';
import type { CallContext, UpstreamClient } from './client';

/** Pages followed per search at most: population needs recent and current records, not whole histories. */
export const MAX_PAGES = 5;

/**
 * `$populate`'s searches against the upstream FHIR server, with the caller's token (in `call.bearer`).
 * Follows `next` links (under the upstream's base only, which the client enforces) up to
 * {@link MAX_PAGES}, and returns one searchset Bundle of every match.
 * @param upstream - The upstream client.
 * @param call - Request id, logger and the caller's bearer token.
 */
export function upstreamRecordQuery(upstream: UpstreamClient, call: CallContext): RecordQuery {
  return async (query) => {
    const first = await upstream.search(query, call);
    const entry = [...(first.entry ?? [])];
    let next = first.link?.find((l) => l.relation === 'next')?.url;
    for (let page = 1; next !== undefined && page < MAX_PAGES; page++) {
      const more = await upstream.search(next, call);
      entry.push(...(more.entry ?? []));
      next = more.link?.find((l) => l.relation === 'next')?.url;
    }
    return {
      resourceType: 'Bundle',
      type: 'searchset',
      entry: entry.filter((e) => e.search?.mode !== 'include'),
    };
  };
}
