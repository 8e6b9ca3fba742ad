import type {
  ImplementationGuide,
  ImplementationGuideDefinitionResource,
  Resource,
  StructureDefinition,
} from '@medplum/fhirtypes';
import { compareStrings } from './index-file';
import { FHIR_PACKAGE_DEPENDENCIES, PUBLICATION } from './manifest';

/** A resource of the package and whether it is an example. */
export interface PackagedResource {
  resource: Resource;
  example: boolean;
}

/** The id and file name stem of the generated ImplementationGuide. */
export const IMPLEMENTATION_GUIDE_ID = PUBLICATION.packageId;

/** `ImplementationGuide.url`: `{canonical}/ImplementationGuide/{packageId}`, as the package spec asks. */
export const IMPLEMENTATION_GUIDE_URL = `${PUBLICATION.canonical}/ImplementationGuide/${PUBLICATION.packageId}`;

function describe(resource: Resource): { name?: string; description?: string } {
  const r = resource as { title?: unknown; name?: unknown; description?: unknown };
  const name = typeof r.title === 'string' ? r.title : typeof r.name === 'string' ? r.name : undefined;
  const description = typeof r.description === 'string' ? r.description : undefined;
  return { ...(name !== undefined ? { name } : {}), ...(description !== undefined ? { description } : {}) };
}

/**
 * The profile an example illustrates: the first `meta.profile` that is a profile of this package.
 * Examples of base resources (or of profiles from elsewhere) are plain examples.
 */
function exampleProfile(resource: Resource, ownProfiles: ReadonlySet<string>): string | undefined {
  return resource.meta?.profile?.map((p) => p.split('|')[0] ?? p).find((p) => ownProfiles.has(p));
}

/**
 * Builds the ImplementationGuide the package carries, listing every packaged resource.
 * Examples get `exampleCanonical` (the package profile they claim) or `exampleBoolean: true`;
 * other resources `exampleBoolean: false`.
 * See: https://hl7.org/fhir/R4/implementationguide.html
 *
 * @param resources - every resource of the package except this ImplementationGuide.
 * @returns the ImplementationGuide.
 */
export function implementationGuide(resources: readonly PackagedResource[]): ImplementationGuide {
  const ownProfiles = new Set(
    resources
      .map((r) => r.resource)
      .filter(
        (r): r is StructureDefinition =>
          r.resourceType === 'StructureDefinition' && r.derivation === 'constraint'
      )
      .map((sd) => sd.url)
  );
  const entries = resources.map(({ resource, example }): ImplementationGuideDefinitionResource => {
    const entry: ImplementationGuideDefinitionResource = {
      reference: { reference: `${resource.resourceType}/${resource.id}` },
      ...describe(resource),
    };
    const profile = example ? exampleProfile(resource, ownProfiles) : undefined;
    if (profile) {
      entry.exampleCanonical = profile;
    } else {
      entry.exampleBoolean = example;
    }
    return entry;
  });
  // Definitions before examples, each group by reference, so the output never depends on disk order.
  entries.sort(
    (a, b) =>
      Number(a.exampleBoolean !== false) - Number(b.exampleBoolean !== false) ||
      compareStrings(a.reference?.reference ?? '', b.reference?.reference ?? '')
  );
  return {
    resourceType: 'ImplementationGuide',
    id: IMPLEMENTATION_GUIDE_ID,
    text: {
      status: 'generated',
      div: `<div xmlns="http://www.w3.org/1999/xhtml"><p>${PUBLICATION.title}, version ${PUBLICATION.version}: ${entries.length} resources.</p></div>`,
    },
    url: IMPLEMENTATION_GUIDE_URL,
    version: PUBLICATION.version,
    name: PUBLICATION.name,
    title: PUBLICATION.title,
    status: 'active',
    experimental: false,
    date: PUBLICATION.date,
    publisher: PUBLICATION.publisher,
    description: PUBLICATION.description,
    jurisdiction: [{ coding: [{ ...PUBLICATION.jurisdiction }] }],
    packageId: PUBLICATION.packageId,
    license: PUBLICATION.license,
    fhirVersion: [PUBLICATION.fhirVersion],
    dependsOn: FHIR_PACKAGE_DEPENDENCIES.flatMap((d) =>
      d.implementationGuide
        ? [
            {
              id: d.packageId.replaceAll('.', '_'),
              uri: d.implementationGuide,
              packageId: d.packageId,
              version: d.version,
            },
          ]
        : []
    ),
    definition: { resource: entries },
  };
}
