/**
 * R4 `$apply` for PlanDefinitions and ActivityDefinitions: pure, FHIRPath-only, deterministic given
 * the injected clock and id generator. See `environment.ts` for the expression environment.
 */
export { applyActivityDefinition, SUPPORTED_KINDS } from './activity-definition';
export type { ActivityRequest, RequestKind } from './activity-definition';
export { setPathValues, parseSimplePath } from './element-path';
export type { PathSegment } from './element-path';
export type { ApplyEnvironment } from './environment';
export { FHIRPATH_LANGUAGE, VARIABLE_EXTENSION } from './expression';
export { applyPlanDefinition, APPLICABILITY_BEHAVIOR_EXTENSION } from './plan-definition';
export { containedCarePlan, liftedEntries, movedEntries } from './shapes';
export type {
  ActionTrace,
  ApplyDeps,
  ApplyOptions,
  ApplyParameters,
  AppliedPlan,
  CanonicalResolver,
  ConditionTrace,
  LiftedEntry,
} from './types';
