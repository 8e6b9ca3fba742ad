import type { OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import type { InternalSchemaElement, InternalTypeSchema } from '@medplum/core';
import {
  getAllDataTypes,
  getDataType as medplumGetDataType,
  OperationOutcomeError,
  parseStructureDefinition,
  toTypedValue as medplumToTypedValue,
  validateResource,
  validateTypedValue,
} from '@medplum/core';
import { LruCache } from '../lru';
import { issue } from '../outcomes';
import type { DefinitionProvider } from './definitions';
import { collectResourceTypes, ensureIndexed, isIndexed } from './definitions';
import type { SharedCrawls } from './medplum-shortcut';
import { medplumIssues } from './medplum-shortcut';

// Bound once: these run per resource, and a call through the package's export getters costs more.
const getDataType = medplumGetDataType;
const toTypedValue = medplumToTypedValue;
/** No resource types to index beyond the data types (one array for every call). */
const NO_TYPES: readonly string[] = [];

/** The Medplum tier: `@medplum/core` validation against base definitions and profiles. */
export interface MedplumTier {
  /**
   * Validates against the base definition of the resource's type.
   * @param crawls - Given when a profile pass of the same resource follows in the same synchronous
   *   call: the base pass records its crawls there for it (the result is the same either way).
   */
  readonly validateBase: (resource: Resource, crawls?: SharedCrawls) => OperationOutcomeIssue[];
  /**
   * Validates against a profile (which must have a snapshot), with the same result as
   * `validateResource(resource, { profile })` but without parsing the profile per call.
   * @param crawls - What `validateBase` recorded for this resource just before, unchanged since.
   */
  readonly validateProfile: (
    resource: Resource,
    profile: StructureDefinition,
    crawls?: SharedCrawls
  ) => OperationOutcomeIssue[];
}

/**
 * Creates the Medplum tier. Base definitions are indexed once, lazily per resource type.
 *
 * Profile cache: `validateResource(r, { profile })` parses the profile on every call (about 1 ms).
 * Instead each profile is parsed once and its schema registered in Medplum's type map under a
 * private key; `validateTypedValue({ type: key, value })` then validates against it. Two details
 * keep the result identical to `validateResource(r, { profile })` (proved by a property test):
 * - Only the root schema is registered, never the profile's backbone types. (`loadDataType` with
 *   `type: url` also registers them under their base names, e.g. `ConditionEvidence`, which
 *   silently changes base validation of every Condition afterwards.)
 * - The registered elements keep the base element's type list. Medplum reads property values by
 *   the schema registered for the value's type; `validateResource` reads the root by the base
 *   type, so a profile that narrows `onset[x]` to `dateTime` would otherwise change the result.
 *
 * Both paths first try {@link medplumIssues}, which computes the same issues without crawling absent
 * elements when it can be sure of them and otherwise defers to Medplum. When the validator runs a
 * base pass and then a profile pass of one resource in one call, the profile pass reuses the base
 * pass's crawls below the root (the same base schemas; see `SharedCrawls`).
 * @param provider - Base definitions.
 */
export function createMedplumTier(provider: DefinitionProvider): MedplumTier {
  function prepare(resource: Resource): OperationOutcomeIssue[] {
    const unknown = ensureIndexed(provider, collectResourceTypes(resource));
    return unknown.map((type) => issue('error', 'structure', `Unknown resource type "${type}"`, type));
  }

  /** The key of a profile already registered, or undefined. */
  function registeredKey(profile: StructureDefinition): string | undefined {
    const key = keys.get(profile);
    return key !== undefined && registered.get(key)?.profile === profile ? key : undefined;
  }

  /**
   * Registers the profile's schema, under {@link profileSchemaKey} unless another profile with other
   * content holds that key (the same canonical is no proof of the same profile), then under a key
   * of its own.
   */
  function profileKey(profile: StructureDefinition): string {
    const known = registeredKey(profile);
    if (known !== undefined) {
      return known;
    }
    const canonical = profileSchemaKey(profile);
    const holder = registered.get(canonical);
    if (holder && holder.text() === JSON.stringify(profile)) {
      keys.set(profile, canonical);
      return canonical;
    }
    const key = holder ? `${canonical}#${++given}` : canonical;
    ensureIndexed(provider, [profile.type ?? '']);
    const parsed = parseStructureDefinition(profile);
    const base = getDataType(profile.type ?? '');
    getAllDataTypes()[key] = { ...parsed, innerTypes: [], elements: withBaseTypes(parsed, base) };
    let text: string | undefined;
    registered.set(key, { profile, text: () => (text ??= JSON.stringify(profile)) });
    keys.set(profile, key);
    return key;
  }

  return {
    validateBase: (resource, crawls) => {
      ensureIndexed(provider, NO_TYPES);
      if (isIndexed(resource.resourceType)) {
        const quick = medplumIssues(
          toTypedValue(resource),
          getDataType(resource.resourceType),
          isIndexed,
          crawls && { crawls, role: 'record' }
        );
        if (quick) {
          return quick;
        }
      }
      const unknown = prepare(resource);
      return unknown.length > 0 ? unknown : run(() => validateResource(resource));
    },
    validateProfile: (resource, profile, crawls) => {
      const known = registeredKey(profile);
      ensureIndexed(provider, NO_TYPES);
      if (known !== undefined && isIndexed(resource.resourceType)) {
        const quick = medplumIssues(
          { type: known, value: resource },
          getDataType(known),
          isIndexed,
          crawls && { crawls, role: 'reuse' }
        );
        if (quick) {
          return quick;
        }
      }
      const unknown = prepare(resource);
      if (unknown.length > 0) {
        return unknown;
      }
      let key: string;
      try {
        key = profileKey(profile);
      } catch (err) {
        return [issue('error', 'processing', `Profile ${profile.url} could not be loaded: ${message(err)}`)];
      }
      return run(() => validateTypedValue({ type: key, value: resource }));
    },
  };
}

/** How many profile schemas are kept registered in Medplum's type map. */
export const PROFILES_KEPT = 64;

// Registered profile schemas by their key in Medplum's type map, which is global, so this is too;
// bounded (profiles may come with a request): the least recently used leaves Medplum's map as well.
const registered = new LruCache<string, Registration>(PROFILES_KEPT, (key) => {
  Reflect.deleteProperty(getAllDataTypes(), key);
});
const keys = new WeakMap<StructureDefinition, string>();
let given = 0;

/** A registered profile schema: the profile, and its JSON text (computed when first compared). */
interface Registration {
  readonly profile: StructureDefinition;
  readonly text: () => string;
}

/**
 * The key under which the tier registers a profile's schema in Medplum's type map (the profile is
 * validated as a value of this type), unless a profile with the same canonical and other content
 * holds it.
 * @param profile - The profile.
 */
export function profileSchemaKey(profile: StructureDefinition): string {
  return `profile:${profile.url ?? profile.id ?? ''}|${profile.version ?? ''}`;
}

/** Medplum throws an OperationOutcomeError when there are errors and returns warnings. */
function run(validate: () => OperationOutcomeIssue[]): OperationOutcomeIssue[] {
  try {
    return validate();
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      return err.outcome.issue ?? [];
    }
    return [issue('error', 'structure', `Resource could not be validated: ${message(err)}`)];
  }
}

function withBaseTypes(
  profile: InternalTypeSchema,
  base: InternalTypeSchema
): Record<string, InternalSchemaElement> {
  const elements: Record<string, InternalSchemaElement> = {};
  for (const [key, element] of Object.entries(profile.elements)) {
    const baseElement = base.elements[key];
    elements[key] = baseElement
      ? {
          ...element,
          // Same codes as the base; a code the profile keeps carries the profile's target profiles.
          type: baseElement.type.map((t) => element.type.find((p) => p.code === t.code) ?? { code: t.code }),
        }
      : element;
  }
  return elements;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
