/**
 * Deploys re-fhir to a Medplum project (thin wrapper over `src/bot/deploy.ts` and
 * `src/bot/upload-content.ts`, which are tested against Medplum's MockClient):
 *   content  uploads the conformance resources (Questionnaire, PlanDefinitions, profiles, terminology)
 *   bot      creates or updates the Bot, deploys `dist/bot/re-fhir-bot.cjs`, creates its Subscriptions
 * Environment: MEDPLUM_BASE_URL, MEDPLUM_CLIENT_ID, MEDPLUM_CLIENT_SECRET (a ClientApplication that
 * is a project admin); optional MEDPLUM_BOT_RUNTIME (`awslambda` or `vmcontext`).
 *
 * Usage: npm run deploy:content; npm run deploy:bot (which builds the bundle first)
 */
import { MedplumClient } from '@medplum/core';
import fs from 'node:fs';
import path from 'node:path';
import { deployBot } from '../bot/deploy';
import { uploadContent } from '../bot/upload-content';
import { BOT_BUNDLE } from './build-bot';

function env(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set`);
  }
  return value;
}

async function signIn(): Promise<MedplumClient> {
  const medplum = new MedplumClient({ baseUrl: env('MEDPLUM_BASE_URL'), fetch });
  await medplum.startClientLogin(env('MEDPLUM_CLIENT_ID'), env('MEDPLUM_CLIENT_SECRET'));
  return medplum;
}

async function main(command: string | undefined): Promise<void> {
  if (command === 'content') {
    const uploaded = await uploadContent(await signIn());
    console.log(`Uploaded ${uploaded.length} conformance resources by url|version`);
    return;
  }
  if (command === 'bot') {
    if (!fs.existsSync(BOT_BUNDLE)) {
      throw new Error(`${path.relative(process.cwd(), BOT_BUNDLE)} is missing: run npm run build:bot`);
    }
    const runtime = process.env.MEDPLUM_BOT_RUNTIME;
    if (runtime !== undefined && runtime !== 'awslambda' && runtime !== 'vmcontext') {
      throw new Error(`MEDPLUM_BOT_RUNTIME must be awslambda or vmcontext, not ${runtime}`);
    }
    const { bot, created, subscriptions } = await deployBot(await signIn(), {
      code: fs.readFileSync(BOT_BUNDLE, 'utf8'),
      ...(runtime ? { runtimeVersion: runtime } : {}),
    });
    console.log(`${created ? 'Created' : 'Updated'} Bot/${bot.id} and deployed ${path.basename(BOT_BUNDLE)}`);
    for (const s of subscriptions) {
      console.log(`Subscription/${s.id}: ${s.criteria} (${s.reason})`);
    }
    return;
  }
  throw new Error('Usage: tsx src/tools/deploy-medplum.ts content|bot');
}

if (require.main === module) {
  main(process.argv[2]).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
