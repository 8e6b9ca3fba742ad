import type { Resource } from '@medplum/fhirtypes';

/**
 * One entry of a FHIR package `.index.json`: the file and the resource properties tools search
 * by, each present only when the resource has it as a string.
 * See: https://hl7.org/fhir/packages.html#2.1.10.4
 */
export interface IndexEntry {
  filename: string;
  resourceType: string;
  id: string;
  url?: string;
  version?: string;
  kind?: string;
  type?: string;
  supplements?: string;
  content?: string;
}

/** A FHIR package `.index.json` (index version 2). */
export interface PackageIndex {
  'index-version': 2;
  files: IndexEntry[];
}

/** A resource together with the file name it has inside a package folder. */
export interface PackagedFile {
  filename: string;
  resource: Resource;
}

const OPTIONAL_FIELDS = ['url', 'version', 'kind', 'type', 'supplements', 'content'] as const;

/**
 * Builds the index entry of one resource. Properties that are not strings on this resource type
 * (`PlanDefinition.type` is a CodeableConcept) are left out, as are absent ones.
 *
 * @param filename - the file name inside the package folder.
 * @param resource - the resource stored in that file; it must have an id.
 * @returns the entry.
 */
export function indexEntry(filename: string, resource: Resource): IndexEntry {
  if (!resource.id) {
    throw new Error(`${filename}: a packaged resource needs an id`);
  }
  const entry: IndexEntry = { filename, resourceType: resource.resourceType, id: resource.id };
  const fields = resource as unknown as Record<string, unknown>;
  for (const field of OPTIONAL_FIELDS) {
    const value = fields[field];
    if (typeof value === 'string') {
      entry[field] = value;
    }
  }
  return entry;
}

/**
 * Builds the `.index.json` of one package folder, entries sorted by file name.
 *
 * @param files - every resource file of the folder.
 * @returns the index.
 */
export function packageIndex(files: readonly PackagedFile[]): PackageIndex {
  const entries = files.map((f) => indexEntry(f.filename, f.resource));
  entries.sort((a, b) => compareStrings(a.filename, b.filename));
  return { 'index-version': 2, files: entries };
}

/** Locale-independent string order, so generated files do not depend on the machine. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
