/**
 * re-fhir: FHIR R4 content and engine for the evaluation and management of retrograde ejaculation.
 *
 * The functions at the top use the default Node engine (the shipped content, every validation tier,
 * the system clock and random UUIDs). Pass `engine` to use other content, a fixed clock or other ids;
 * `createNodeEngine` builds one. Every failure throws a ReFhirError whose `kind` says which
 * (`structural`, `conformance`, `not-found`, `internal`) and whose `outcome` is the OperationOutcome.
 */
import type {
  Bundle,
  CarePlan,
  Encounter,
  Patient,
  Resource,
  OperationOutcome,
  OperationOutcomeIssue,
  Parameters,
  PlanDefinition,
  Questionnaire,
  QuestionnaireResponse,
} from '@medplum/fhirtypes';
import type { EngineDeps, EvaluateOptions, Evaluation } from './core/operations';
import {
  applyOperation,
  checkResponse,
  collectResponseIssues,
  evaluateResponse,
  extractOperation,
} from './core/operations';
import { QUESTIONNAIRE_CANONICAL } from './core/constants';
import { issue, outcome, ReFhirError } from './core/outcomes';
import type { PopulateResult, RecordQuery } from './core/populate';
import { populateResponse, recordQuery } from './core/populate';
export { populateParameters } from './core/populate';
import type { ApplyParameters } from './core/plan';
import type { CardOptions, CdsResponse } from './core/cds-hooks';
import { cdsCards, checkCdsRequest, hookDefinitions, recordBundle } from './core/cds-hooks';
import { defaultEngine } from './node/engine';

export interface EngineOption {
  /** The engine to use (default: the shared Node engine over the shipped content). */
  readonly engine?: EngineDeps;
}

/**
 * Evaluates a completed QuestionnaireResponse: validation, SDC calculation and extraction, the
 * management pathway's `$apply`, Provenance, output validation, and one transaction Bundle of
 * idempotent writes. Nothing is persisted.
 * @param response - The QuestionnaireResponse (any JSON: it is validated).
 * @param options - Context (`encounter`, `practitioner`, …), an inline `questionnaire`, the engine, and
 *   `previous`: what an earlier evaluation of the same response wrote, as stored (resources or a searchset
 *   Bundle; `previousWritesSearches` says how to find them); the Bundle then also closes what the
 *   response no longer supports (docs/amendments.md).
 * @returns The Bundle, the completed response, the Conditions, the CarePlan and the warnings.
 */
export function evaluate(response: unknown, options: EvaluateOptions & EngineOption = {}): Evaluation {
  return evaluateResponse(response, options.engine ?? defaultEngine(), options);
}

/**
 * The response with its SDC calculated items computed (`calculatedExpression` over the Questionnaire's
 * variables), after the same checks as `evaluate`. This is what a third-party SDC extractor needs: the
 * templates read the calculated case features, which such extractors do not compute.
 * @param response - The QuestionnaireResponse (any JSON: it is validated).
 * @param options - An inline `questionnaire` (else resolved by canonical), the engine.
 */
export function calculate(
  response: unknown,
  options: { questionnaire?: Questionnaire } & EngineOption = {}
): QuestionnaireResponse {
  return checkResponse(response, options.engine ?? defaultEngine(), options).completed;
}

/**
 * SDC `QuestionnaireResponse/$extract` (template-based): the transaction Bundle the Questionnaire's
 * templates produce, as an SDC Parameters resource with `return` and `issues`. Nothing is persisted.
 * @param response - The QuestionnaireResponse.
 * @param options - An inline `questionnaire` (else resolved by canonical), the engine.
 */
export function extract(
  response: unknown,
  options: { questionnaire?: Questionnaire } & EngineOption = {}
): Parameters {
  const { bundle, issues } = extractOperation(response, options.engine ?? defaultEngine(), options);
  return extractParameters(bundle, issues);
}

/** The SDC `$extract` output Parameters: `return` (the Bundle) and `issues` (an OperationOutcome). */
export function extractParameters(bundle: Bundle, issues: readonly OperationOutcomeIssue[]): Parameters {
  return {
    resourceType: 'Parameters',
    parameter: [
      { name: 'return', resource: bundle },
      { name: 'issues', resource: outcome(issues) },
    ],
  };
}

/** Where `populate` reads the patient's record: a Bundle (or list) of his resources, or a search function. */
export type PopulateRecord = Bundle | readonly Resource[] | RecordQuery;

/**
 * SDC `Questionnaire/$populate`: the response pre-filled from the patient's record, `in-progress`, with
 * every pre-filled item marked with its author (the population service) and its source records, for
 * the clinician to confirm. Nothing is stored; the record is only searched (see docs/populate.md).
 * @param patient - The Patient the form is about (the `patient` launch context).
 * @param record - His resources, or a function that runs the content's FHIR searches (e.g. against a server).
 * @param options - An inline `questionnaire` (default: the shipped RE evaluation), `user` and
 *   `encounter` launch contexts, the engine (its clock is "now" for `observationLinkPeriod`).
 * @returns The response and the issues (what could not be pre-filled, and why).
 */
export function populate(
  patient: Patient,
  record: PopulateRecord,
  options: { questionnaire?: Questionnaire; user?: Resource; encounter?: Encounter } & EngineOption = {}
): Promise<PopulateResult> {
  const engine = options.engine ?? defaultEngine();
  const questionnaire =
    options.questionnaire ?? engine.registry.resolve<Questionnaire>(QUESTIONNAIRE_CANONICAL, 'Questionnaire');
  if (!questionnaire) {
    throw new ReFhirError('not-found', [
      issue('error', 'not-found', `${QUESTIONNAIRE_CANONICAL} is not known to the engine`),
    ]);
  }
  return populateResponse(questionnaire, {
    context: {
      patient,
      ...(options.user ? { user: options.user } : {}),
      ...(options.encounter ? { encounter: options.encounter } : {}),
    },
    query: typeof record === 'function' ? record : recordQuery(record as Bundle | readonly Resource[]),
    now: engine.clock(),
  });
}

/**
 * R4 `PlanDefinition/$apply`: a CarePlan with its RequestGroup and requests contained.
 * @param planDefinition - A PlanDefinition, or the canonical of a shipped one.
 * @param params - `subject` (required), `encounter`, `practitioner`, `organization`, CPG `data`, …
 */
export function apply(
  planDefinition: PlanDefinition | string,
  params: ApplyParameters,
  options: EngineOption = {}
): CarePlan {
  return applyOperation(planDefinition, params, options.engine ?? defaultEngine()).carePlan;
}

/**
 * Validates a QuestionnaireResponse in every tier and against its Questionnaire, and returns all
 * issues (structural and conformance) in one OperationOutcome; never throws.
 */
export function validateQuestionnaireResponse(
  response: unknown,
  options: { questionnaire?: Questionnaire } & EngineOption = {}
): OperationOutcome {
  return outcome(collectResponseIssues(response, options.engine ?? defaultEngine(), options).issues);
}

/**
 * Answers a CDS Hooks 2.0 call in process (no HTTP, no client JWT, nothing fetched): checks the request
 * against the service, builds the record from its prefetch and context, applies the service's
 * PlanDefinition and returns the cards. Missing prefetch counts as an empty record for that key; the
 * HTTP server reads it from the client's FHIR server instead (docs/cds-hooks.md).
 * @param serviceId - The service id, as in discovery (`re-cds-patient-view`, `re-cds-order-sign`).
 * @param body - The hook request (any JSON: it is checked).
 * @param options - The app launch URL for SMART links, the engine.
 */
export function cdsHook(
  serviceId: string,
  body: unknown,
  options: CardOptions & EngineOption = {}
): CdsResponse {
  const engine = options.engine ?? defaultEngine();
  const hook = hookDefinitions(engine.registry).find((h) => h.service.id === serviceId);
  if (!hook) {
    throw new ReFhirError('not-found', [
      issue('error', 'not-found', `No CDS service ${JSON.stringify(serviceId)}`),
    ]);
  }
  const request = checkCdsRequest(body, hook.service);
  return cdsCards(
    hook.planDefinition,
    request,
    recordBundle(hook.planDefinition, request, {}, engine),
    engine,
    options
  );
}

export * from './core/cds-hooks';
export * from './core/constants';
export { CLOSABLE_TYPES, closingEntries, previousWritesSearches } from './core/bundle/reconcile';
export type { PreviousWrites, PreviousWritesSearch } from './core/bundle/reconcile';
export { CONTENT } from './core/conformance/content';
export { ConformanceRegistry, shippedRegistry, splitCanonical } from './core/conformance/registry';
export * from './core/operations';
export { ReFhirError, hasErrors, isReFhirError, issue, outcome } from './core/outcomes';
export {
  POPULATE_AUTHOR_DISPLAY,
  POPULATE_MARK,
  recordQuery,
  searchRecord,
  UnsupportedSearch,
} from './core/populate';
export type { LaunchContext, PopulateResult, RecordQuery } from './core/populate';
export type { FailureKind } from './core/outcomes';
export * from './core/terminology';
export type { ApplyParameters } from './core/plan';
export type { Clock, IdGenerator } from './core/types';
export { createNodeEngine, defaultEngine } from './node/engine';
export type { NodeEngineOptions } from './node/engine';
