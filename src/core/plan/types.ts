import type {
  Identifier,
  Bundle,
  CarePlan,
  CodeableConcept,
  CommunicationRequest,
  Extension,
  Goal,
  MedicationRequest,
  OperationOutcomeIssue,
  RequestGroup,
  Resource,
  ServiceRequest,
  Task,
} from '@medplum/fhirtypes';
import type { Clock, IdGenerator } from '../types';

/**
 * Looks a canonical (`url` or `url|version`) up; `undefined` when unknown.
 * `ConformanceRegistry.resolve` fits: `(c) => registry.resolve(c)`.
 */
export type CanonicalResolver = (canonical: string) => Resource | undefined;

/** A request created from an ActivityDefinition. */
export type ActivityRequest = ServiceRequest | MedicationRequest | CommunicationRequest | Task;

/** What `$apply` needs from outside: canonical look-up, clock and id generator. */
export interface ApplyDeps {
  /** Resolves `definitionCanonical` targets (and the PlanDefinition itself when given by canonical). */
  readonly resolve: CanonicalResolver;
  /** Supplies `CarePlan.created`, `RequestGroup.authoredOn` and every request's `authoredOn`. */
  readonly clock: Clock;
  /** Supplies the id of every generated resource (used as `urn:uuid:` fullUrl or contained id). */
  readonly newId: IdGenerator;
}

/**
 * The R4 `$apply` input parameters, plus the CPG `data` Bundle.
 * See: https://hl7.org/fhir/R4/plandefinition-operation-apply.html
 */
export interface ApplyParameters {
  /** Reference string of the subject, e.g. `Patient/123` or `urn:uuid:…` (required, 1 subject per call). */
  readonly subject: string;
  /** Reference string of the encounter in context. */
  readonly encounter?: string;
  /** Reference string of the practitioner applying the definition (becomes author/requester). */
  readonly practitioner?: string;
  /** Reference string of the organization in context (available as `%organization` only). */
  readonly organization?: string;
  readonly userType?: CodeableConcept;
  readonly userLanguage?: CodeableConcept;
  readonly userTaskContext?: CodeableConcept;
  readonly setting?: CodeableConcept;
  readonly settingContext?: CodeableConcept;
  /**
   * CPG-style data: a Bundle (typically the QuestionnaireResponse plus the resources extracted from it),
   * each entry with a `fullUrl` so that expressions can reference entries by it.
   */
  readonly data?: Bundle;
  /** References (e.g. `data` fullUrls) of the Conditions the CarePlan addresses (`CarePlan.addresses`). */
  readonly addresses?: readonly string[];
  /**
   * References for `CarePlan.supportingInfo`. When omitted, the fullUrl of every QuestionnaireResponse
   * entry in `data` is used.
   */
  readonly supportingInfo?: readonly string[];
}

/** Knobs that are not `$apply` parameters. */
export interface ApplyOptions {
  /**
   * Extension URLs copied from every applied PlanDefinition action onto the CarePlan (deduplicated, in
   * document order), e.g. a "rule id" extension, so that the CarePlan lists the rules that fired.
   */
  readonly carePlanExtensionUrls?: readonly string[];
  /**
   * Extension URLs copied from a PlanDefinition action onto the request its ActivityDefinition
   * creates (after the request's own extensions), so that a request read alone still names its rule.
   */
  readonly requestExtensionUrls?: readonly string[];
  /**
   * Elements placed on the CarePlan before the generated ones (generated elements win), e.g. `meta`,
   * `category` or `identifier` required by a profile.
   */
  readonly carePlanBase?: Partial<CarePlan>;
  /** Deepest PlanDefinition nesting followed before reporting an issue (default 16). */
  readonly maxDepth?: number;
  /**
   * `false` leaves {@link AppliedPlan.trace} empty, for a caller that does not read it (the
   * evaluation): nothing is copied or recorded for it. Everything else is the same. Default `true`.
   */
  readonly trace?: boolean;
  /**
   * Gives each request an identifier from where it was defined (the PlanDefinition's `url|version` and
   * the action's location), which stays the same when the same action applies again: a caller can key
   * idempotent writes on it.
   */
  readonly requestIdentifier?: (origin: {
    readonly planDefinition: string;
    readonly path: string;
  }) => Identifier | undefined;
}

/** What happened to one PlanDefinition action, for audit and the clinician page. */
export interface ActionTrace {
  /** `url|version` of the PlanDefinition that holds the action. */
  readonly planDefinition: string;
  /** FHIRPath location of the action inside that PlanDefinition, e.g. `PlanDefinition.action[0].action[2]`. */
  readonly path: string;
  readonly title?: string;
  /**
   * `applied`: in the RequestGroup; `not-applicable`: a condition was not met; `error`: a condition could
   * not be evaluated; `pruned`: applicable, but its nested definition and sub-actions produced nothing.
   */
  readonly outcome: 'applied' | 'not-applicable' | 'error' | 'pruned';
  /** Each applicability condition with its result (`undefined` when it failed to evaluate). */
  readonly conditions: readonly ConditionTrace[];
  /** Extensions of the action (as copied to the RequestGroup action), e.g. rule ids and evidence tags. */
  readonly extensions: readonly Extension[];
}

/** One evaluated applicability condition. */
export interface ConditionTrace {
  readonly expression: string;
  readonly met: boolean;
  readonly result?: readonly unknown[];
}

/**
 * The result of applying a PlanDefinition, in neutral form: every generated resource carries its
 * generated `id`, and references between them are `urn:uuid:<id>`. Turn it into the R4 single-resource
 * return with {@link containedCarePlan} or into transaction-ready entries with {@link liftedEntries}.
 */
export interface AppliedPlan {
  readonly carePlan: CarePlan & { id: string };
  readonly requestGroup: RequestGroup & { id: string };
  /** Goals from `PlanDefinition.goal`, referenced from `CarePlan.goal`. */
  readonly goals: readonly (Goal & { id: string })[];
  /** The requests created from ActivityDefinitions, each referenced from exactly one RequestGroup action. */
  readonly requests: readonly (ActivityRequest & { id: string })[];
  readonly issues: readonly OperationOutcomeIssue[];
  readonly trace: readonly ActionTrace[];
}

/** A resource with the fullUrl under which a transaction Bundle entry should carry it. */
export interface LiftedEntry {
  readonly fullUrl: string;
  readonly resource: Resource;
}
