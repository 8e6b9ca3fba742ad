import type { MedplumClient } from '@medplum/core';
import type { QuestionnaireResponse, Resource } from '@medplum/fhirtypes';
import { previousWritesSearches } from '../core/bundle/reconcile';

/**
 * What earlier evaluations of this response wrote in the bot's Medplum project, for the evaluation to
 * close what the response no longer supports (docs/amendments.md): the core's searches (by subject and
 * key system), every page of each. Input that is not yet known to be a response searches nothing.
 * @param medplum - The bot's client.
 * @param input - The bot input.
 */
export async function previousWrites(
  medplum: MedplumClient,
  input: QuestionnaireResponse
): Promise<Resource[]> {
  const found: Resource[] = [];
  for (const { resourceType, query } of previousWritesSearches(input)) {
    for await (const page of medplum.searchResourcePages(resourceType, { ...query, _count: '1000' })) {
      found.push(...page);
    }
  }
  return found;
}
