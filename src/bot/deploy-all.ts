import type { MedplumClient } from '@medplum/core';
import type { Questionnaire } from '@medplum/fhirtypes';
import { shippedRegistry } from '../core/conformance/registry';
import type { DeployBotOptions, DeployedBot } from './deploy';
import { BOT_FILENAME, BOT_IDENTIFIER, BOT_NAME, deployBot, MEDPLUM_DEFAULT_MAX_JSON_BYTES } from './deploy';
import { botSubscriptions } from './subscriptions';
import type { UploadedResource } from './upload-content';
import { contentUploads, uploadContent } from './upload-content';

/** What {@link deployAll} did. */
export interface DeployedAll {
  readonly content: UploadedResource[];
  readonly bot: DeployedBot;
}

/**
 * Deploys everything to a Medplum project, content first (the bot reads Questionnaire versions it
 * does not ship from the project): the conformance resources by conditional update on
 * `url|version`, then the Bot by its identifier, its code, and its Subscriptions. Every step
 * finds what an earlier run wrote and updates it, so running it again changes nothing in number.
 * @param medplum - A client signed in as a project admin.
 * @param options - The bundle and the target (see `deployBot`).
 */
export async function deployAll(medplum: MedplumClient, options: DeployBotOptions): Promise<DeployedAll> {
  const content = await uploadContent(medplum);
  const bot = await deployBot(medplum, options);
  return { content, bot };
}

/**
 * The writes {@link deployAll} would make, one line each, computed without any client: the dry run.
 * @param options - The bundle and the target.
 */
export function deployPlan(options: Pick<DeployBotOptions, 'code' | 'runtimeVersion'>): string[] {
  const lines = contentUploads().map(
    ({ resource, url, version }) => `PUT ${resource.resourceType}?url=${url}&version=${version}`
  );
  const body = Buffer.byteLength(JSON.stringify({ code: options.code, filename: BOT_FILENAME }), 'utf8');
  const identifier = `${BOT_IDENTIFIER.system}|${BOT_IDENTIFIER.value}`;
  lines.push(
    `PUT Bot (found by identifier=${identifier}; else POST admin/projects/{project}/bot): name ${BOT_NAME}` +
      (options.runtimeVersion ? `, runtimeVersion ${options.runtimeVersion}` : ''),
    `POST Bot/{id}/$deploy: ${BOT_FILENAME}, a JSON body of ${body} bytes (${((100 * body) / MEDPLUM_DEFAULT_MAX_JSON_BYTES).toFixed(0)} % of Medplum's default 1 MiB limit)`,
    `POST Binary (the Bot's sourceCode, ${Buffer.byteLength(options.code, 'utf8')} bytes) and PUT Bot/{id}`
  );
  const urls = shippedRegistry()
    .ofType<Questionnaire>('Questionnaire')
    .flatMap((q) => (q.url ? [q.url] : []));
  for (const s of botSubscriptions('Bot/{id}', [...new Set(urls)])) {
    lines.push(
      `PUT or POST Subscription (found by url=Bot/{id} and interaction): ${s.criteria} (${s.reason})`
    );
  }
  return lines;
}
