import type {
  Bundle,
  Encounter,
  OperationOutcomeIssue,
  Patient,
  QuestionnaireResponse,
  Resource,
} from '@medplum/fhirtypes';

/** The SDC launch context: who the form is about, and optionally who fills it in and where. */
export interface LaunchContext {
  readonly patient: Patient;
  readonly user?: Resource;
  readonly encounter?: Encounter;
}

/**
 * Runs one FHIR search (`Type?params`, relative to a FHIR base) and returns a searchset Bundle.
 * The core never does I/O: adapters implement it against a Bundle in memory, an upstream FHIR server
 * with the caller's token, or a Medplum project.
 */
export type RecordQuery = (query: string) => Promise<Bundle>;

export interface PopulateOptions {
  readonly context: LaunchContext;
  readonly query: RecordQuery;
  /** "Now" for `observationLinkPeriod` and `authored`: injected, so results are reproducible. */
  readonly now: Date;
}

export interface PopulateResult {
  /** The pre-filled response: status `in-progress`; every pre-filled answer marked with its sources. */
  readonly response: QuestionnaireResponse;
  /** What could not be pre-filled and why (warnings and information; errors only for a missing context). */
  readonly issues: OperationOutcomeIssue[];
}
