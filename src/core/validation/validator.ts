import type { OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { LruCache } from '../lru';
import { hasErrors, issue } from '../outcomes';
import { splitCanonical } from '../conformance/registry';
import { createBasePass } from './base-pass';
import { createBindingTier } from './bindings';
import { checkJsonRules, TOO_DEEP } from './json-rules';
import type { DefinitionProvider } from './definitions';
import { ensureIndexed } from './definitions';
import { createInvariantTier } from './invariants';
import { createMedplumTier } from './medplum';
import { SharedCrawls } from './medplum-shortcut';
import type { FhirJsonSchema } from './schema';
import { createSchemaTier } from './schema';
import { TreeRegistry } from './trees';
import { notRepeated } from './repeated-issues';
import type { ClassifiedIssues, MemberOf } from './types';

/** Which tiers run; all default to on (the schema tier only when a schema is given). */
export interface ValidationTiers {
  readonly schema?: boolean;
  readonly medplum?: boolean;
  readonly invariants?: boolean;
  readonly bindings?: boolean;
}

/** Options of {@link createValidator}. */
export interface ValidatorOptions {
  /** Base R4 StructureDefinitions (see `src/node/definitions.ts` for the Node loader). */
  readonly definitions: DefinitionProvider;
  /** The official R4 JSON schema; without it the schema tier is off (e.g. in the Medplum bot). */
  readonly schema?: FhirJsonSchema;
  /** Profiles and extension definitions (with snapshots) that may be applied. */
  readonly profiles?: readonly StructureDefinition[];
  /** ValueSet membership for required bindings; without it every binding is reported as unchecked. */
  readonly memberOf?: MemberOf;
  readonly tiers?: ValidationTiers;
  /**
   * Runs the base invariants and the bindings of a resource validated without a profile in one walk
   * (default true); false walks them apart, as before (kept for the differential test of the two).
   */
  readonly onePass?: boolean;
}

/** What to validate against. */
export interface ValidateOptions {
  /** A profile canonical (`url` or `url|version`) among the validator's profiles, or the profile itself. */
  readonly profile?: string | StructureDefinition;
}

/**
 * The outcome: every issue found, and the kind of failure when there is an error:
 * `structural` (not valid base FHIR R4; adapters answer 400) or `conformance` (breaks a profile,
 * a required binding or an extension definition; 422).
 */
export interface ValidationResult {
  readonly issues: OperationOutcomeIssue[];
  readonly failure?: 'structural' | 'conformance';
}

/** One resource's validation, base tiers shared (see {@link Validator.begin}). */
export interface ResourceValidation {
  /** The same as `validate(resource)`. */
  readonly base: () => ValidationResult;
  /** The same as `validate(resource, { profile })`. */
  readonly withProfile: (profile: string | StructureDefinition) => ValidationResult;
}

/** A configured validator. */
export interface Validator {
  /**
   * Validates a resource; never throws on bad input.
   * @param resource - Any JSON value.
   * @param options - The profile to apply, if any (`meta.profile` is not applied automatically).
   */
  readonly validate: (resource: unknown, options?: ValidateOptions) => ValidationResult;
  /**
   * Starts validating one resource against its base definition and any number of profiles, running
   * the base tiers (JSON rules, schema, Medplum base, base invariants) once, on first use, instead
   * of once per call. Each answer equals the corresponding {@link Validator.validate} call's.
   * The resource must not change while the returned object is in use.
   * @param resource - Any JSON value.
   */
  readonly begin: (resource: unknown) => ResourceValidation;
  /**
   * Prepares the given resource types now (quick schema checks, indexed definitions, element trees)
   * instead of on first use; ajv's validators are still compiled only when a resource first fails.
   */
  readonly warm: (resourceTypes: readonly string[]) => void;
}

/**
 * Creates a validator with four tiers:
 * 1. schema (ajv, official R4 JSON schema): base structure, structural;
 * 2. Medplum (`@medplum/core`): base definition (structural) and profile (conformance);
 * 3. invariants (fhirpath.js): the constraints Medplum cannot evaluate;
 * 4. required bindings, through `memberOf` (conformance).
 * When a structural error is found, the conformance tiers are skipped: the resource is rejected anyway.
 * @param options - Definitions, schema, profiles, membership and tier switches.
 */
export function createValidator(options: ValidatorOptions): Validator {
  const tiers = options.tiers ?? {};
  const schemaTier = options.schema && tiers.schema !== false ? createSchemaTier(options.schema) : undefined;
  const medplumTier = tiers.medplum !== false ? createMedplumTier(options.definitions) : undefined;
  const trees = new TreeRegistry(options.definitions, options.profiles ?? []);
  const invariantTier = tiers.invariants !== false ? createInvariantTier(trees) : undefined;
  const bindingTier =
    tiers.bindings !== false ? createBindingTier(trees, options.memberOf ?? (() => undefined)) : undefined;
  const basePass =
    invariantTier && bindingTier && options.onePass !== false
      ? createBasePass(trees, invariantTier, bindingTier)
      : undefined;
  const profiles = new Map<string, StructureDefinition>();
  for (const sd of options.profiles ?? []) {
    if (sd.url) {
      profiles.set(sd.url, sd);
      if (sd.version) {
        profiles.set(`${sd.url}|${sd.version}`, sd);
      }
    }
  }

  const own = new Set(options.profiles ?? []);
  const givenProfiles = new LruCache<string, StructureDefinition>(GIVEN_PROFILES_KEPT);

  function resolveProfile(profile: string | StructureDefinition): StructureDefinition | undefined {
    if (typeof profile !== 'string') {
      return own.has(profile) ? profile : internProfile(profile);
    }
    return profiles.get(profile) ?? profiles.get(splitCanonical(profile)[0]);
  }

  /**
   * A profile object given by the caller, by content: the same content given again (a new object
   * each request) reuses one private copy, and so its element tree and its Medplum schema; a copy,
   * so that the caller changing its object later cannot change what the caches hold.
   */
  function internProfile(profile: StructureDefinition): StructureDefinition {
    let text: string;
    try {
      text = JSON.stringify(profile);
    } catch {
      return profile; // Not JSON (a cycle): used as it is, uncached by content.
    }
    let interned = givenProfiles.get(text);
    if (!interned) {
      interned = JSON.parse(text) as StructureDefinition;
      givenProfiles.set(text, interned);
    }
    return interned;
  }

  /**
   * The base tiers (1-3), run once per resource however many profiles follow. With `bindings`, the
   * binding tier's base-definition issues are found in the invariant tier's walk and kept for
   * {@link finish} (when the resource is validated without a profile).
   */
  function validateBaseTiers(input: unknown, crawls?: SharedCrawls, bindings = false): BaseTiers {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      return stopped([issue('error', 'structure', 'Resource must be a JSON object', 'Resource')]);
    }
    if (typeof (input as { resourceType?: unknown }).resourceType !== 'string') {
      return stopped([issue('error', 'structure', 'Missing resourceType', 'Resource')]);
    }
    const resource = input as Resource;
    const issues: OperationOutcomeIssue[] = [];

    // 1-3: base R4; any error here is structural. A resource the schema tier finds clean has
    // nothing for the JSON rules or the schema (one walk instead of two, issue 13).
    if (!schemaTier?.clean(resource)) {
      const jsonIssues = checkJsonRules(resource);
      issues.push(...jsonIssues);
      if (jsonIssues.some((i) => i.code === TOO_DEEP)) {
        return stopped(issues); // The recursive tiers would exhaust the stack on it.
      }
      if (schemaTier) {
        issues.push(...schemaTier.validate(resource));
        if (hasErrors(issues)) {
          return stopped(issues);
        }
      }
    }
    if (medplumTier) {
      issues.push(...medplumTier.validateBase(resource, crawls));
    }
    const conformance: OperationOutcomeIssue[] = [];
    let baseBindings: OperationOutcomeIssue[] | undefined;
    if (invariantTier && !hasErrors(issues)) {
      let found: ClassifiedIssues;
      if (bindings && basePass) {
        const both = basePass(resource);
        found = both;
        baseBindings = both.bindings;
      } else {
        found = invariantTier.validateBase(resource);
      }
      issues.push(...found.structural);
      conformance.push(...found.conformance);
    }
    if (hasErrors(issues)) {
      return stopped(issues);
    }
    return { resource, issues, conformance, bindings: baseBindings };
  }

  /** Tier 4 after the base tiers: profile, bindings and extension definitions (conformance failures). */
  function finish(
    base: BaseTiers,
    profileOption: string | StructureDefinition | undefined,
    crawls?: SharedCrawls
  ): ValidationResult {
    if (!base.resource) {
      return structural([...base.issues]);
    }
    const resource = base.resource;
    const issues = [...base.issues];
    const conformance = [...base.conformance];
    let profile: StructureDefinition | undefined;
    if (profileOption !== undefined) {
      profile = resolveProfile(profileOption);
      if (!profile) {
        conformance.push(issue('error', 'not-found', `Unknown profile ${String(profileOption)}`));
      } else if (profile.type !== resource.resourceType) {
        conformance.push(
          issue(
            'error',
            'invalid',
            `Profile ${profile.url} applies to ${profile.type}, not ${resource.resourceType}`
          )
        );
        profile = undefined;
      }
    }
    if (profile) {
      if (medplumTier) {
        const found = medplumTier.validateProfile(resource, profile, crawls);
        if (issues.length === 0) {
          // Nothing of the base pass to leave out (the usual case): no key per issue (issue 13).
          conformance.push(...found);
        } else {
          conformance.push(...notRepeated(found, issues));
        }
      }
      if (invariantTier) {
        conformance.push(...invariantTier.validateProfile(resource, profile));
      }
    }
    if (bindingTier) {
      conformance.push(
        ...(profile === undefined && base.bindings ? base.bindings : bindingTier.validate(resource, profile))
      );
    }
    issues.push(...conformance);
    return hasErrors(conformance) ? { issues, failure: 'conformance' } : { issues };
  }

  return {
    warm: (resourceTypes) => {
      schemaTier?.warm(resourceTypes);
      ensureIndexed(options.definitions, resourceTypes);
      for (const type of resourceTypes) {
        trees.type(type);
      }
    },
    validate: (input, validateOptions = {}) => {
      // The Medplum tier's profile pass reuses the base pass's crawls (same call, same resource).
      const crawls = validateOptions.profile !== undefined ? new SharedCrawls() : undefined;
      return finish(
        validateBaseTiers(input, crawls, validateOptions.profile === undefined),
        validateOptions.profile,
        crawls
      );
    },
    begin: (input) => {
      let base: BaseTiers | undefined;
      // Bindings in the base walk when the first answer asked for is `base()` (no profile).
      const baseTiers = (): BaseTiers => (base ??= validateBaseTiers(input, undefined, true));
      return {
        base: () => finish(baseTiers(), undefined),
        withProfile: (profile) => {
          if (base !== undefined) {
            return finish(base, profile);
          }
          // First use: both passes in this call, so the profile pass may reuse the base crawls
          // (never kept for a later call, when the resource may have changed).
          const crawls = new SharedCrawls();
          base = validateBaseTiers(input, crawls);
          return finish(base, profile, crawls);
        },
      };
    },
  };
}

/**
 * What the base tiers found: `resource` is set when they passed (no structural error), and then
 * `conformance` holds the base tiers' conformance findings (extension-definition invariants).
 */
interface BaseTiers {
  readonly resource?: Resource;
  readonly issues: readonly OperationOutcomeIssue[];
  readonly conformance: readonly OperationOutcomeIssue[];
  /** The binding tier's issues without a profile, when found in the base walk ({@link BasePassIssues}). */
  readonly bindings?: readonly OperationOutcomeIssue[];
}

function stopped(issues: OperationOutcomeIssue[]): BaseTiers {
  return { issues, conformance: [] };
}

/** How many profiles given as objects (not among the validator's own) are kept, by content. */
const GIVEN_PROFILES_KEPT = 16;

function structural(issues: OperationOutcomeIssue[]): ValidationResult {
  return { issues, failure: 'structural' };
}
