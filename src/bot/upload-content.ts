import type { MedplumClient } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { CONTENT } from '../core/conformance/content';
import type { CanonicalResource } from '../core/conformance/registry';

/** One uploaded resource. */
export interface UploadedResource {
  /** `url|version`. */
  readonly canonical: string;
  /** `Type/id` in the project (the id is Medplum's). */
  readonly reference: string;
}

/** A copy without `id`, `meta.versionId` and `meta.lastUpdated` (an emptied `meta` goes too). */
function withoutServerFields(resource: Resource): Resource {
  const copy = structuredClone(resource);
  delete copy.id;
  if (copy.meta) {
    delete copy.meta.versionId;
    delete copy.meta.lastUpdated;
    if (Object.keys(copy.meta).length === 0) {
      delete copy.meta;
    }
  }
  return copy;
}

/** Upload order: what others refer to comes first, so a failure leaves a consistent prefix. */
const ORDER = [
  'CodeSystem',
  'ValueSet',
  'ConceptMap',
  'StructureDefinition',
  'OperationDefinition',
  'ActivityDefinition',
  'PlanDefinition',
  'Questionnaire',
];

/**
 * Uploads conformance resources to the Medplum project, each by conditional update on its
 * `url` and `version` (`PUT Type?url=…&version=…`): created the first time, updated in place
 * afterwards, never duplicated. The shipped ids are dropped (Medplum assigns its own and refuses
 * to create a resource under a client-chosen id), as are `meta.versionId` and `meta.lastUpdated`.
 * See: https://hl7.org/fhir/R4/http.html#cond-update
 * @param medplum - A client signed in to the project.
 * @param resources - The resources (default: the shipped content, `CONTENT`).
 * @throws Error for a resource without `url` or `version`, before anything is uploaded.
 */
export async function uploadContent(
  medplum: MedplumClient,
  resources: readonly Resource[] = CONTENT
): Promise<UploadedResource[]> {
  const uploaded: UploadedResource[] = [];
  for (const { resource, url, version } of contentUploads(resources)) {
    const saved = await medplum.upsertResource(withoutServerFields(resource), { url, version });
    uploaded.push({ canonical: `${url}|${version}`, reference: `${saved.resourceType}/${saved.id}` });
  }
  return uploaded;
}

/** One conditional update of {@link uploadContent}. */
export interface ContentUpload {
  readonly resource: Resource;
  readonly url: string;
  readonly version: string;
}

/**
 * What {@link uploadContent} writes, in its order, without writing it (the deploy's dry run).
 * @param resources - The resources (default: the shipped content).
 * @throws Error for a resource without `url` or `version`.
 */
export function contentUploads(resources: readonly Resource[] = CONTENT): ContentUpload[] {
  const canonical = resources.map((resource) => {
    const { url, version } = resource as Partial<CanonicalResource>;
    if (!url || !version) {
      throw new Error(`${resource.resourceType}/${resource.id ?? '?'} has no url and version`);
    }
    return { resource, url, version };
  });
  const rank = (type: string): number => (ORDER.includes(type) ? ORDER.indexOf(type) : ORDER.length);
  return canonical.sort((a, b) => rank(a.resource.resourceType) - rank(b.resource.resourceType));
}
