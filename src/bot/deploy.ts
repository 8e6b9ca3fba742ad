import type { MedplumClient, WithId } from '@medplum/core';
import { ContentType, normalizeErrorString } from '@medplum/core';
import type { Bot, Identifier, Questionnaire, Subscription } from '@medplum/fhirtypes';
import type { ConformanceRegistry } from '../core/conformance/registry';
import { shippedRegistry } from '../core/conformance/registry';
import { CANONICAL_BASE } from '../core/constants';
import { botSubscriptions, interactionOf } from './subscriptions';

/** How the deploy helper finds its Bot again: by this identifier, never by a remembered id. */
export const BOT_IDENTIFIER: Required<Pick<Identifier, 'system' | 'value'>> = {
  system: `${CANONICAL_BASE}/sid/medplum-bot`,
  value: 're-fhir-evaluate',
};

/** Name of the Bot in the project. */
export const BOT_NAME = 're-fhir-evaluate';

/** File name the code is deployed under (`.cjs`: Medplum then runs it as CommonJS). */
export const BOT_FILENAME = 're-fhir-bot.cjs';

const BOT_DESCRIPTION =
  'Evaluates QuestionnaireResponses of the re-fhir retrograde ejaculation Questionnaire: Conditions, Observations, a CarePlan and a Provenance, written idempotently.';

/** Options of {@link deployBot}. */
export interface DeployBotOptions {
  /** The built bundle (`npm run build:bot`). */
  readonly code: string;
  /** Project to create the Bot in (default: the client's current project). */
  readonly projectId?: string;
  /** Bot runtime: `awslambda` (Medplum's hosted default) or `vmcontext` (self-hosted). */
  readonly runtimeVersion?: 'awslambda' | 'vmcontext';
  /** Registry whose Questionnaires the Subscriptions match (default: the shipped content). */
  readonly registry?: ConformanceRegistry;
}

/** What {@link deployBot} did. */
export interface DeployedBot {
  readonly bot: WithId<Bot>;
  /** True when the Bot was created, false when an existing one was updated. */
  readonly created: boolean;
  readonly subscriptions: WithId<Subscription>[];
}

/**
 * Medplum parses JSON request bodies up to its `maxJsonSize` setting, 1 MB by default, and
 * `$deploy` carries the code in a JSON body: a larger bundle needs a server configured for it.
 */
export const MEDPLUM_DEFAULT_MAX_JSON_BYTES = 1024 * 1024;

/**
 * Creates or updates the Bot (found by {@link BOT_IDENTIFIER}), deploys the bundle with
 * `Bot/{id}/$deploy`, stores it as the Bot's source too, and creates or updates its Subscriptions
 * (see `botSubscriptions`). Running it again updates in place: one Bot, two Subscriptions.
 * See: https://www.medplum.com/docs/api/fhir/operations/bot-deploy
 * @param medplum - A client signed in as a project admin.
 * @param options - The code and the target.
 * @throws when the deploy fails; for a bundle over 1 MB the message names `maxJsonSize`.
 */
export async function deployBot(medplum: MedplumClient, options: DeployBotOptions): Promise<DeployedBot> {
  const { bot: found, created } = await ensureBot(medplum, options);
  try {
    await medplum.post(medplum.fhirUrl('Bot', found.id, '$deploy'), {
      code: options.code,
      filename: BOT_FILENAME,
    });
  } catch (error) {
    const bytes = Buffer.byteLength(JSON.stringify(options.code), 'utf8');
    const hint =
      bytes > MEDPLUM_DEFAULT_MAX_JSON_BYTES
        ? ` The request body is ${(bytes / 1e6).toFixed(2)} MB; a Medplum server accepts JSON bodies up to its maxJsonSize setting (1 MB by default).`
        : '';
    throw new Error(`Deploying Bot/${found.id} failed: ${normalizeErrorString(error)}.${hint}`, {
      cause: error,
    });
  }
  // The source shown (and deployable) in the Medplum app is the bundle too: otherwise a deploy from
  // the app would compile the placeholder source of a new Bot over our code. `$deploy` changed the
  // Bot (executableCode), so it is read again first.
  const sourceCode = await medplum.createAttachment({
    data: options.code,
    filename: BOT_FILENAME,
    contentType: ContentType.JAVASCRIPT,
  });
  await medplum.updateResource({ ...(await medplum.readResource('Bot', found.id)), sourceCode });
  const urls = (options.registry ?? shippedRegistry())
    .ofType<Questionnaire>('Questionnaire')
    .flatMap((q) => (q.url ? [q.url] : []));
  const subscriptions = await ensureSubscriptions(medplum, `Bot/${found.id}`, [...new Set(urls)]);
  return { bot: await medplum.readResource('Bot', found.id), created, subscriptions };
}

async function ensureBot(
  medplum: MedplumClient,
  options: DeployBotOptions
): Promise<{ bot: WithId<Bot>; created: boolean }> {
  const wanted = {
    name: BOT_NAME,
    description: BOT_DESCRIPTION,
    ...(options.runtimeVersion ? { runtimeVersion: options.runtimeVersion } : {}),
  };
  const existing = await medplum.searchOne('Bot', {
    identifier: `${BOT_IDENTIFIER.system}|${BOT_IDENTIFIER.value}`,
  });
  if (existing) {
    return { bot: await medplum.updateResource({ ...existing, ...wanted }), created: false };
  }
  const projectId = options.projectId ?? medplum.getProject()?.id;
  if (!projectId) {
    throw new Error('No project: sign in to a project or pass projectId');
  }
  // The admin endpoint also gives the Bot its ProjectMembership, which a plain create would not.
  const bot = (await medplum.post(`admin/projects/${projectId}/bot`, wanted)) as WithId<Bot> | undefined;
  if (bot?.resourceType !== 'Bot' || !bot.id) {
    throw new Error(`Creating the Bot in project ${projectId} returned no Bot`);
  }
  const identifier = [...(bot.identifier ?? []), { ...BOT_IDENTIFIER }];
  return { bot: await medplum.updateResource({ ...bot, ...wanted, identifier }), created: true };
}

async function ensureSubscriptions(
  medplum: MedplumClient,
  endpoint: string,
  questionnaireUrls: readonly string[]
): Promise<WithId<Subscription>[]> {
  const existing = await medplum.searchResources('Subscription', { url: endpoint });
  const saved: WithId<Subscription>[] = [];
  for (const wanted of botSubscriptions(endpoint, questionnaireUrls)) {
    const same = existing.find((s) => interactionOf(s) === interactionOf(wanted));
    saved.push(
      same
        ? await medplum.updateResource({ ...wanted, id: same.id, meta: same.meta })
        : await medplum.createResource(wanted)
    );
  }
  return saved;
}
