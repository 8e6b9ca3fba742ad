import type { BackgroundJobInteraction } from '@medplum/core';
import { resourceMatchesSubscriptionCriteria } from '@medplum/core';
import type { QuestionnaireResponse, Subscription } from '@medplum/fhirtypes';
import { botSubscriptions, interactionOf, questionnaireCriteria } from '../../src/bot/subscriptions';
import { indexedMockClient } from './support';

const URL = 'http://re-fhir.org/fhir/Questionnaire/re-evaluation';

beforeAll(async () => {
  // Medplum's matcher needs the search parameters indexed.
  await indexedMockClient();
});

/** Does any of the Subscriptions fire, by Medplum's own matcher? */
async function fires(
  subscriptions: readonly Subscription[],
  response: QuestionnaireResponse,
  interaction: BackgroundJobInteraction
): Promise<boolean> {
  for (const subscription of subscriptions) {
    const matched = await resourceMatchesSubscriptionCriteria({
      resource: response,
      subscription,
      context: { interaction },
      getPreviousResource: async () => undefined,
    });
    if (matched) {
      return true;
    }
  }
  return false;
}

const qr = (
  questionnaire: string | undefined,
  status: QuestionnaireResponse['status']
): QuestionnaireResponse => ({
  resourceType: 'QuestionnaireResponse',
  ...(questionnaire ? { questionnaire } : {}),
  status,
});

describe('the bot Subscriptions, matched by Medplum', () => {
  const subscriptions = botSubscriptions('Bot/123', [URL]);

  test.each([
    [URL, 'completed', 'create'],
    [`${URL}|0.1.0`, 'completed', 'create'],
    [`${URL}|0.1.0`, 'amended', 'update'],
    [URL, 'amended', 'create'],
    [`${URL}|0.2.0`, 'completed', 'update'],
  ] as const)('fire for %s, status %s, on %s', async (questionnaire, status, interaction) => {
    expect(await fires(subscriptions, qr(questionnaire, status), interaction)).toBe(true);
  });

  test.each([
    [URL, 'in-progress', 'update'],
    [`${URL}|0.1.0`, 'entered-in-error', 'update'],
    [`${URL}|0.1.0`, 'completed', 'delete'],
    ['http://example.org/fhir/Questionnaire/phq-9', 'completed', 'create'],
    [`${URL}-short|0.1.0`, 'completed', 'create'],
    [undefined, 'completed', 'create'],
  ] as const)('do not fire for %s, status %s, on %s', async (questionnaire, status, interaction) => {
    expect(await fires(subscriptions, qr(questionnaire, status), interaction)).toBe(false);
  });

  test('a plain reference search would miss the versioned citation: the reason for the FHIRPath', async () => {
    const searchOnly: Subscription = {
      ...subscriptions[0]!,
      criteria: `QuestionnaireResponse?questionnaire=${URL}`,
      extension: [],
    };
    expect(await fires([searchOnly], qr(URL, 'completed'), 'create')).toBe(true);
    expect(await fires([searchOnly], qr(`${URL}|0.1.0`, 'completed'), 'create')).toBe(false);
  });

  test('there is one per interaction, both calling the Bot with the resource as FHIR JSON', () => {
    expect(subscriptions.map(interactionOf)).toEqual(['create', 'update']);
    for (const s of subscriptions) {
      expect(s.channel).toEqual({ type: 'rest-hook', endpoint: 'Bot/123', payload: 'application/fhir+json' });
      expect(s.status).toBe('active');
    }
  });
});

describe('questionnaireCriteria', () => {
  test('a URL with a quote is matched literally by Medplum', async () => {
    const quoted = "http://example.org/Questionnaire/o'brien";
    const subscriptions = botSubscriptions('Bot/1', [quoted]);
    expect(await fires(subscriptions, qr(`${quoted}|1`, 'completed'), 'create')).toBe(true);
    expect(await fires(subscriptions, qr('http://example.org/Questionnaire/o', 'completed'), 'create')).toBe(
      false
    );
  });

  test('matches each URL bare or versioned, and escapes quotes', () => {
    expect(questionnaireCriteria(["http://a/Q'1", 'http://b/Q'])).toBe(
      "%current.questionnaire = 'http://a/Q\\'1' or %current.questionnaire.startsWith('http://a/Q\\'1|') or " +
        "%current.questionnaire = 'http://b/Q' or %current.questionnaire.startsWith('http://b/Q|')"
    );
  });
});
