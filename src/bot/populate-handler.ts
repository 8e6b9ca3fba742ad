/**
 * The re-fhir population bot (a second Medplum bot, `dist/bot/re-fhir-populate-bot.cjs`): SDC
 * `$populate` against the bot's Medplum project. Run with `$execute` and SDC input Parameters
 * (`subject`, optionally `canonical`); returns the SDC output Parameters (`response`, `issues`).
 * Reads only, as the bot's identity: give the bot a project access policy that lets it read what the
 * caller may read. Nothing is written; the clinician stores the response once confirmed.
 * See: docs/populate.md
 */
import type { BotEvent, MedplumClient } from '@medplum/core';
import { badRequest, OperationOutcomeError } from '@medplum/core';
import type { Bundle, BundleEntry, Parameters, Patient, Questionnaire } from '@medplum/fhirtypes';
import { shippedRegistry } from '../core/conformance/registry';
import { QUESTIONNAIRE_CANONICAL } from '../core/constants';
import { isObject } from '../core/json';
import { outcome } from '../core/outcomes';
import type { RecordQuery } from '../core/populate';
import { populateResponse } from '../core/populate';

/** Pages followed per search at most: population needs recent and current records, not whole histories. */
export const MAX_PAGES = 5;

/**
 * The content's searches run with the bot's MedplumClient (`GET [base]/Type?params`, following
 * `next` links up to {@link MAX_PAGES}).
 * @param medplum - The bot's client.
 */
export function medplumRecordQuery(medplum: MedplumClient): RecordQuery {
  return async (query) => {
    const at = query.indexOf('?');
    const type = at < 0 ? query : query.slice(0, at);
    const first = await medplum.search(type as 'Patient', at < 0 ? '' : query.slice(at + 1));
    const entry: BundleEntry[] = [...((first as Bundle).entry ?? [])];
    let next = first.link?.find((l) => l.relation === 'next')?.url;
    for (let page = 1; next !== undefined && page < MAX_PAGES; page++) {
      const more = await medplum.get<Bundle>(next);
      entry.push(...(more.entry ?? []));
      next = more.link?.find((l) => l.relation === 'next')?.url;
    }
    return { resourceType: 'Bundle', type: 'searchset', entry } as Bundle;
  };
}

/**
 * Pre-fills the Questionnaire (default: the shipped RE evaluation) for the subject, from the project.
 * @param medplum - The bot's client.
 * @param input - SDC `$populate` input: `subject` (Reference to a Patient, required), `canonical`.
 * @param now - "Now" for `observationLinkPeriod` (injected in tests).
 * @throws OperationOutcomeError (400) for malformed input, (404) for an unknown Questionnaire or Patient.
 */
export async function populateFromProject(
  medplum: MedplumClient,
  input: unknown,
  now: Date = new Date()
): Promise<Parameters> {
  const { subject, canonical } = readInput(input);
  const questionnaire = shippedRegistry().resolve<Questionnaire>(canonical, 'Questionnaire');
  if (!questionnaire) {
    throw new OperationOutcomeError(badRequest(`Questionnaire ${canonical} is not shipped with this bot`));
  }
  const patient = await medplum.readResource('Patient', subject);
  const { response, issues } = await populateResponse(questionnaire, {
    context: { patient: patient as Patient },
    query: medplumRecordQuery(medplum),
    now,
  });
  return {
    resourceType: 'Parameters',
    parameter: [
      { name: 'response', resource: response },
      ...(issues.length > 0 ? [{ name: 'issues', resource: outcome(issues) }] : []),
    ],
  };
}

function readInput(input: unknown): { subject: string; canonical: string } {
  if (!isObject(input) || input.resourceType !== 'Parameters' || !Array.isArray(input.parameter)) {
    throw new OperationOutcomeError(badRequest('The bot input must be SDC $populate Parameters'));
  }
  const params = input.parameter as Parameters['parameter'] & object;
  const known = new Set(['subject', 'canonical']);
  const unknown = params.find((p) => !isObject(p) || !known.has(String(p.name)));
  if (unknown !== undefined) {
    throw new OperationOutcomeError(
      badRequest(
        `Unknown parameter ${isObject(unknown) ? String(unknown.name).slice(0, 64) : ''}: use subject and canonical`
      )
    );
  }
  const subjects = params.filter((p) => p.name === 'subject');
  const reference = subjects.length === 1 ? subjects[0]!.valueReference?.reference : undefined;
  const match = typeof reference === 'string' ? /^Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(reference) : null;
  if (!match) {
    throw new OperationOutcomeError(
      badRequest('Parameter subject must be given once, as a Reference to Patient/{id}')
    );
  }
  const canonicals = params.filter((p) => p.name === 'canonical');
  const canonical = canonicals.length === 0 ? QUESTIONNAIRE_CANONICAL : canonicals[0]!.valueCanonical;
  if (canonicals.length > 1 || typeof canonical !== 'string') {
    throw new OperationOutcomeError(
      badRequest('Parameter canonical must be given at most once, as a canonical')
    );
  }
  return { subject: match[1]!, canonical };
}

/**
 * The Medplum bot entry point (`exports.handler` of the population bot).
 * @param medplum - The client Medplum gives the bot.
 * @param event - `input` is the SDC `$populate` input Parameters.
 */
export async function handler(medplum: MedplumClient, event: BotEvent<Parameters>): Promise<Parameters> {
  return populateFromProject(medplum, event.input);
}
