/**
 * The re-fhir Medplum bot: evaluates a QuestionnaireResponse of the RE evaluation Questionnaire
 * when a Subscription fires (status `completed` or `amended`) and writes the Conditions,
 * Observations, CarePlan, requests and Provenance as conditional updates, in transactions of at
 * most Medplum's 8 entries, each resource after what it references; for an amended response, what
 * its earlier evaluation wrote and it no longer supports is closed in the same write
 * (docs/amendments.md). Thin glue around
 * `evaluateResponse`, the operation the HTTP adapter runs too.
 * See: https://www.medplum.com/docs/bots/bot-basics
 */
import type { BotEvent, MedplumClient } from '@medplum/core';
import { OperationOutcomeError } from '@medplum/core';
import type { OperationOutcomeIssue, QuestionnaireResponse } from '@medplum/fhirtypes';
import type { EngineDeps } from '../core/operations';
import { evaluateResponse } from '../core/operations';
import { issue, outcome, ReFhirError } from '../core/outcomes';
import { operationOutcomeError } from './operation-outcome-error';
import { createBotEngine } from './engine';
import { previousWrites } from './previous-writes';
import { chooseQuestionnaire } from './questionnaire';
import { writeTransaction } from './write';

/** What the bot did with a response it evaluated. */
export interface EvaluatedSummary {
  readonly outcome: 'evaluated';
  /** `QuestionnaireResponse/{id}`. */
  readonly response: string;
  /** The Questionnaire evaluated against (`url|version`). */
  readonly questionnaire: string;
  /** Where the Questionnaire came from: the content shipped in the bot, or the Medplum project. */
  readonly questionnaireSource: 'shipped' | 'project';
  /** Ids of the Conditions written (created or updated in place). */
  readonly conditions: string[];
  /** Id of the CarePlan written, when a management rule applied. */
  readonly carePlan?: string;
  /** Number of resources written (created or updated), over all the transactions. */
  readonly written: number;
  /** Warnings and information from the evaluation (errors throw instead). */
  readonly issues: OperationOutcomeIssue[];
}

/** A response of another Questionnaire: nothing was written. */
export interface IgnoredSummary {
  readonly outcome: 'ignored';
  readonly response?: string;
  readonly reason: string;
}

/**
 * The bot's return value (the `$execute` answer) and, as one log line, its record in the
 * execution's AuditEvent ({@link summaryLine}).
 */
export type BotSummary = EvaluatedSummary | IgnoredSummary;

let engine: EngineDeps | undefined;

/**
 * The Medplum bot entry point. Ignores responses of other Questionnaires; evaluates ours and writes
 * the result as conditional updates ({@link writeTransaction}), so that running it again on the
 * same response creates nothing new and an `amended` response updates the same resources.
 * Invalid input throws an OperationOutcomeError (Medplum records the failure) and writes nothing.
 * A transaction the server refuses throws its OperationOutcome; the transactions before it stay
 * written, and running the bot again completes the rest.
 * @param medplum - The client Medplum gives the bot (the bot's own identity in its project).
 * @param event - The event; `input` is the QuestionnaireResponse that fired the Subscription.
 */
export async function handler(
  medplum: MedplumClient,
  event: BotEvent<QuestionnaireResponse>
): Promise<BotSummary> {
  // One engine per runtime instance: building it loads the R4 definitions (a few hundred ms).
  engine ??= createBotEngine();
  try {
    const summary = await evaluateAndWrite(medplum, event.input, engine);
    // eslint-disable-next-line no-console -- Medplum keeps a bot's console output as its AuditEvent log
    console.log(summaryLine(summary));
    return summary;
  } catch (error) {
    // eslint-disable-next-line no-console -- as above
    console.log(failureLine(error));
    throw error;
  }
}

/** Prefix of the bot's log lines, so they can be found in the AuditEvent log. */
export const LOG_PREFIX = 're-fhir bot:';

/**
 * The summary as one log line. Medplum keeps a bot execution's console output (not its return
 * value) as the AuditEvent's `outcomeDesc`, so this line is the run's record in the project.
 */
export function summaryLine(summary: BotSummary): string {
  return `${LOG_PREFIX} ${JSON.stringify(summary)}`;
}

/** A failed run's OperationOutcome as one log line (Medplum also logs the error message itself). */
export function failureLine(error: unknown): string {
  const outcome = error instanceof OperationOutcomeError ? error.outcome : undefined;
  return `${LOG_PREFIX} ${JSON.stringify({ outcome: 'failed', operationOutcome: outcome })}`;
}

/**
 * The bot's work with the engine injected (tests pass a fixed clock and counter ids).
 * @param medplum - The client.
 * @param input - The bot input (any JSON: it is validated).
 * @param deps - The engine.
 */
export async function evaluateAndWrite(
  medplum: MedplumClient,
  input: unknown,
  deps: EngineDeps
): Promise<BotSummary> {
  try {
    if (!isQuestionnaireResponse(input)) {
      throw new ReFhirError('structural', [
        issue('error', 'structure', 'The bot expects a QuestionnaireResponse', 'QuestionnaireResponse'),
      ]);
    }
    const response = input.id ? `QuestionnaireResponse/${String(input.id)}` : undefined;
    const choice = await chooseQuestionnaire(medplum, deps.registry, input.questionnaire);
    if (choice.kind === 'not-ours') {
      return {
        outcome: 'ignored',
        ...(response ? { response } : {}),
        reason: `Not a response of a re-fhir Questionnaire (questionnaire: ${describe(input.questionnaire)})`,
      };
    }
    // What earlier evaluations of this response wrote: the write closes what it no longer supports.
    const previous = await previousWrites(medplum, input);
    const evaluation = evaluateResponse(input, deps, {
      ...(choice.kind === 'project' ? { questionnaire: choice.questionnaire } : {}),
      previous,
    });
    const written = await writeTransaction(medplum, evaluation.bundle);
    const idsOf = (type: string): string[] =>
      (evaluation.bundle.entry ?? [])
        .filter((e) => e.resource?.resourceType === type && e.fullUrl)
        .map((e) => written.get(e.fullUrl!)!.split('/')[1]!);
    // A CarePlan in the Bundle without one in the evaluation is the earlier plan, revoked.
    const carePlan = evaluation.carePlan ? idsOf('CarePlan')[0] : undefined;
    return {
      outcome: 'evaluated',
      response: `QuestionnaireResponse/${evaluation.response.id ?? ''}`,
      questionnaire: choice.canonical,
      questionnaireSource: choice.kind,
      conditions: idsOf('Condition'),
      ...(carePlan ? { carePlan } : {}),
      written: written.size,
      issues: evaluation.issues,
    };
  } catch (error) {
    throw asOperationOutcomeError(error);
  }
}

function isQuestionnaireResponse(input: unknown): input is QuestionnaireResponse & Record<string, unknown> {
  return (
    typeof input === 'object' &&
    input !== null &&
    !Array.isArray(input) &&
    (input as { resourceType?: unknown }).resourceType === 'QuestionnaireResponse'
  );
}

function describe(value: unknown): string {
  return typeof value === 'string' ? value : 'none';
}

/**
 * Medplum records a bot failure from the OperationOutcome of the error it throws. Engine failures
 * (ReFhirError) and the client's own errors already are OperationOutcomeErrors; anything else is
 * a fault of this module, reported as an `exception` with its message (the bot log is the
 * operator's, not a client's, so the message helps and leaks nothing).
 */
function asOperationOutcomeError(error: unknown): OperationOutcomeError {
  if (error instanceof OperationOutcomeError) {
    return error;
  }
  const internal = issue('error', 'exception', 'Internal error in the re-fhir bot');
  internal.diagnostics = error instanceof Error ? error.message : String(error);
  return operationOutcomeError(outcome([internal]), error);
}
