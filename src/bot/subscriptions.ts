import type { Bot, Extension, Reference, Subscription } from '@medplum/fhirtypes';

/** Medplum extension: the interaction (`create`, `update`, `delete`) a Subscription fires on. */
export const SUPPORTED_INTERACTION_URL =
  'https://medplum.com/fhir/StructureDefinition/subscription-supported-interaction';

/** Medplum extension: a FHIRPath over `%current` (and `%previous`) that must be true to fire. */
export const FHIRPATH_CRITERIA_URL =
  'https://medplum.com/fhir/StructureDefinition/fhir-path-criteria-expression';

/** Search criteria of the bot's Subscriptions: the statuses the engine evaluates. */
export const RESPONSE_CRITERIA = 'QuestionnaireResponse?status=completed,amended';

/** The interactions the bot runs on, one Subscription each. */
export const BOT_INTERACTIONS = ['create', 'update'] as const;

/**
 * FHIRPath true when `%current.questionnaire` cites one of the URLs, bare or as `url|version`
 * (any version: the bot resolves versions it does not ship from the project).
 * @param urls - Canonical URLs of our Questionnaires.
 */
export function questionnaireCriteria(urls: readonly string[]): string {
  const literal = (s: string): string => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  return urls
    .map(
      (url) =>
        `%current.questionnaire = ${literal(url)} or %current.questionnaire.startsWith(${literal(`${url}|`)})`
    )
    .join(' or ');
}

/**
 * The Subscriptions that run the bot on our QuestionnaireResponses, one per interaction.
 *
 * Why two, and why a FHIRPath: Medplum's criteria are a FHIR search, matched in memory. A
 * reference search matches `questionnaire` exactly, so `questionnaire=url` misses a response that
 * cites `url|version`; the comma OR (`questionnaire=url,url|0.1.0`) catches both only for the
 * versions listed. The `fhir-path-criteria-expression` extension matches every version, and the
 * search keeps the status filter (`completed,amended`). Without the supported-interaction
 * extension a Subscription also fires on `delete`, and Medplum reads only the first such
 * extension, so `create` and `update` need one Subscription each.
 * See: https://www.medplum.com/docs/subscriptions/subscription-extensions
 * @param bot - The Bot (or `Bot/{id}`) the Subscriptions call.
 * @param questionnaireUrls - Canonical URLs of our Questionnaires.
 */
export function botSubscriptions(
  bot: Reference<Bot> | string,
  questionnaireUrls: readonly string[]
): Subscription[] {
  const endpoint = typeof bot === 'string' ? bot : (bot.reference ?? '');
  return BOT_INTERACTIONS.map((interaction) => ({
    resourceType: 'Subscription',
    status: 'active',
    reason: `re-fhir: evaluate RE QuestionnaireResponses (${interaction})`,
    criteria: RESPONSE_CRITERIA,
    channel: { type: 'rest-hook', endpoint, payload: 'application/fhir+json' },
    extension: [
      { url: SUPPORTED_INTERACTION_URL, valueCode: interaction },
      { url: FHIRPATH_CRITERIA_URL, valueString: questionnaireCriteria(questionnaireUrls) },
    ],
  }));
}

/** The interaction a Subscription is limited to, if any. */
export function interactionOf(subscription: Subscription): string | undefined {
  return subscription.extension?.find((e: Extension) => e.url === SUPPORTED_INTERACTION_URL)?.valueCode;
}
