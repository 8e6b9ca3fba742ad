import type { Bundle, QuestionnaireResponse, Resource } from '@medplum/fhirtypes';
import type { Logger } from 'pino';
import { previousWritesSearches } from '../../core/bundle/reconcile';
import { httpError } from '../errors';
import type { UpstreamClient } from './client';

/** The most pages read per search: a bound on the work one submission can cause. */
const MAX_PAGES = 20;

/**
 * What earlier evaluations of this response wrote on the upstream, for the evaluation to close what
 * the response no longer supports (docs/amendments.md): the core's searches (by subject and key
 * system; none unless the response is amended), every page of each, up to {@link MAX_PAGES}.
 * @param upstream - The upstream client.
 * @param response - The submitted response.
 * @param context - Request id and logger of the submission.
 */
export async function previousUpstreamWrites(
  upstream: UpstreamClient,
  response: QuestionnaireResponse,
  context: { readonly requestId: string; readonly log: Logger }
): Promise<Resource[]> {
  const found: Resource[] = [];
  for (const { resourceType, query } of previousWritesSearches(response)) {
    let page: string | undefined =
      `${resourceType}?${new URLSearchParams({ ...query, _count: '1000' }).toString()}`;
    for (let n = 0; page !== undefined; n++) {
      if (n >= MAX_PAGES) {
        throw httpError(
          502,
          'too-costly',
          `More than ${MAX_PAGES} pages of ${resourceType} were written for this response's subject upstream`
        );
      }
      const bundle: Bundle = await upstream.search(page, context);
      for (const entry of bundle.entry ?? []) {
        if (entry.resource?.resourceType === resourceType) {
          found.push(entry.resource);
        }
      }
      page = bundle.link?.find((l) => l.relation === 'next')?.url;
    }
  }
  return found;
}
