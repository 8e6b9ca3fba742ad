import { CANONICAL_BASE, CONTENT_VERSION, FHIR_PACKAGE_ID } from '../../core/constants';

/** A package this one depends on, with the canonical of its ImplementationGuide when it has one. */
export interface PackageDependency {
  packageId: string;
  version: string;
  /** `ImplementationGuide.url` of the dependency; absent for the core specification. */
  implementationGuide?: string;
}

/**
 * Pinned dependencies of the package. The core package comes first: tools take the FHIR version
 * from the first core dependency.
 * See: https://hl7.org/fhir/packages.html (dependencies)
 */
export const FHIR_PACKAGE_DEPENDENCIES: readonly PackageDependency[] = [
  { packageId: 'hl7.fhir.r4.core', version: '4.0.1' },
  {
    packageId: 'hl7.fhir.uv.sdc',
    version: '4.0.0',
    implementationGuide: 'http://hl7.org/fhir/uv/sdc/ImplementationGuide/hl7.fhir.uv.sdc',
  },
  {
    packageId: 'hl7.fhir.uv.cpg',
    version: '2.0.0',
    implementationGuide: 'http://hl7.org/fhir/uv/cpg/ImplementationGuide/hl7.fhir.uv.cpg',
  },
  {
    packageId: 'hl7.fhir.uv.crmi',
    version: '1.0.0',
    implementationGuide: 'http://hl7.org/fhir/uv/crmi/ImplementationGuide/hl7.fhir.uv.crmi',
  },
  {
    packageId: 'hl7.fhir.uv.extensions.r4',
    version: '5.2.0',
    implementationGuide: 'http://hl7.org/fhir/extensions/ImplementationGuide/hl7.fhir.uv.extensions',
  },
];

/** Publication metadata shared by the package manifest and the ImplementationGuide. */
export const PUBLICATION = {
  packageId: FHIR_PACKAGE_ID,
  version: CONTENT_VERSION,
  canonical: CANONICAL_BASE,
  fhirVersion: '4.0.1',
  name: 'ReFhir',
  title: 're-fhir: evaluation and management of retrograde ejaculation',
  description:
    'FHIR R4 conformance content for the evaluation and management of retrograde ejaculation: ' +
    'profiles, extensions, the evaluation Questionnaire, PlanDefinitions, ActivityDefinitions, ' +
    'CodeSystems, ValueSets and a ConceptMap.',
  publisher: 're-fhir',
  date: '2026-11-27',
  license: 'Apache-2.0',
  jurisdiction: { system: 'http://unstats.un.org/unsd/methods/m49/m49.htm', code: '001', display: 'World' },
} as const;

/** `package/package.json` of a FHIR NPM package. */
export interface PackageManifest {
  name: string;
  version: string;
  description: string;
  author: string;
  license: string;
  type: 'fhir.ig';
  canonical: string;
  url: string;
  title: string;
  date: string;
  fhirVersions: string[];
  jurisdiction: string;
  dependencies: Record<string, string>;
}

/**
 * Builds `package/package.json`. `date` uses the compact form the IG Publisher writes.
 * See: https://hl7.org/fhir/packages.html#2.1.10.3
 *
 * @returns the manifest of the re-fhir package.
 */
export function packageManifest(): PackageManifest {
  return {
    name: PUBLICATION.packageId,
    version: PUBLICATION.version,
    description: PUBLICATION.description,
    author: PUBLICATION.publisher,
    license: PUBLICATION.license,
    type: 'fhir.ig',
    canonical: PUBLICATION.canonical,
    url: PUBLICATION.canonical,
    title: PUBLICATION.title,
    date: `${PUBLICATION.date.replaceAll('-', '')}000000`,
    fhirVersions: [PUBLICATION.fhirVersion],
    jurisdiction: `${PUBLICATION.jurisdiction.system}#${PUBLICATION.jurisdiction.code}`,
    dependencies: Object.fromEntries(FHIR_PACKAGE_DEPENDENCIES.map((d) => [d.packageId, d.version])),
  };
}
