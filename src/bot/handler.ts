/**
 * The re-fhir Medplum bot: evaluates a QuestionnaireResponse of the RE evaluation Questionnaire
 * when a Subscription fires (status `completed` or `amended`) and writes the Conditions,
 * Observations, CarePlan, requests and Provenance as conditional updates, in transactions of at
 * most Medplum's 8 entries, each resource after what it references. Thin glue around
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

/** The bot's return value, which Medplum records as the execution's result. */
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
  return evaluateAndWrite(medplum, event.input, engine);
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
    const evaluation = evaluateResponse(
      input,
      deps,
      choice.kind === 'project' ? { questionnaire: choice.questionnaire } : {}
    );
    const written = await writeTransaction(medplum, evaluation.bundle);
    const idsOf = (type: string): string[] =>
      (evaluation.bundle.entry ?? [])
        .filter((e) => e.resource?.resourceType === type && e.fullUrl)
        .map((e) => written.get(e.fullUrl!)!.split('/')[1]!);
    const carePlan = idsOf('CarePlan')[0];
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
