import type { MedplumClient } from '@medplum/core';
import type { Questionnaire } from '@medplum/fhirtypes';
import type { ConformanceRegistry } from '../core/conformance/registry';
import { splitCanonical } from '../core/conformance/registry';
import { issue, ReFhirError } from '../core/outcomes';

/**
 * Which Questionnaire a response is evaluated against:
 * - `not-ours`: the response cites no Questionnaire of this module (the bot ignores it);
 * - `shipped`: the shipped content has it (the engine resolves it by canonical);
 * - `project`: one of our Questionnaires at a version this bot does not ship, found in the project.
 */
export type QuestionnaireChoice =
  | { readonly kind: 'not-ours' }
  | { readonly kind: 'shipped'; readonly canonical: string }
  | { readonly kind: 'project'; readonly canonical: string; readonly questionnaire: Questionnaire };

/**
 * Decides which Questionnaire a response is evaluated against. "Ours" means the canonical URL of a
 * Questionnaire in the shipped registry, cited as `url` or `url|version`; the shipped copy wins,
 * and only a version the registry lacks is searched in the Medplum project (`url` + `version`).
 * @param medplum - The client of the bot's project.
 * @param registry - The shipped conformance content.
 * @param canonical - `QuestionnaireResponse.questionnaire` (anything: it comes from the input).
 * @throws ReFhirError (`not-found`) when our URL is cited at a version found nowhere.
 */
export async function chooseQuestionnaire(
  medplum: MedplumClient,
  registry: ConformanceRegistry,
  canonical: unknown
): Promise<QuestionnaireChoice> {
  if (typeof canonical !== 'string') {
    return { kind: 'not-ours' };
  }
  const [url, version] = splitCanonical(canonical);
  if (!registry.ofType<Questionnaire>('Questionnaire').some((q) => q.url === url)) {
    return { kind: 'not-ours' };
  }
  const shipped = registry.resolve<Questionnaire>(canonical, 'Questionnaire');
  if (shipped) {
    return { kind: 'shipped', canonical: `${url}|${shipped.version ?? ''}` };
  }
  // Only `url|version` gets here: a bare `url` always resolves to the highest shipped version.
  const stored = await medplum.searchOne('Questionnaire', version === undefined ? { url } : { url, version });
  if (!stored) {
    throw new ReFhirError('not-found', [
      issue(
        'error',
        'not-found',
        `Questionnaire ${canonical} is neither shipped with this bot nor stored in the Medplum project`,
        'QuestionnaireResponse.questionnaire'
      ),
    ]);
  }
  return { kind: 'project', canonical, questionnaire: stored };
}
