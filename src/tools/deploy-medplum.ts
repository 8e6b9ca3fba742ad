/**
 * Deploys re-fhir to a Medplum project (thin wrapper over `src/bot/deploy-all.ts`,
 * `src/bot/deploy.ts` and `src/bot/upload-content.ts`, which are tested against Medplum's MockClient):
 *   all      builds the bot, uploads the content, then deploys the bot   (npm run deploy)
 *   content  uploads the conformance resources (Questionnaire, PlanDefinitions, profiles, terminology)
 *   bot      creates or updates the Bot, deploys `dist/bot/re-fhir-bot.cjs`, creates its Subscriptions
 * Every write finds what an earlier run wrote (by url|version, by the Bot's identifier, by the
 * Subscription's endpoint), so running it again updates in place.
 * Options: --dry-run prints the writes and contacts nothing (no sign-in; the bundle is still built);
 *   --bundle=<file> where `all` builds the bundle to (default dist/bot/re-fhir-bot.cjs).
 * Environment (see .env.example): MEDPLUM_BASE_URL, MEDPLUM_CLIENT_ID, MEDPLUM_CLIENT_SECRET (a
 * ClientApplication that is a project admin); optional MEDPLUM_BOT_RUNTIME (`awslambda` or `vmcontext`).
 *
 * Usage: npm run deploy [-- --dry-run]; npm run deploy:content; npm run deploy:bot
 */
import { MedplumClient } from '@medplum/core';
import fs from 'node:fs';
import path from 'node:path';
import { deployAll, deployPlan } from '../bot/deploy-all';
import type { DeployBotOptions, DeployedBot } from '../bot/deploy';
import { deployBot } from '../bot/deploy';
import { contentUploads, uploadContent } from '../bot/upload-content';
import { BOT_BUNDLE, buildBot } from './build-bot';

function env(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set (see .env.example)`);
  }
  return value;
}

async function signIn(): Promise<MedplumClient> {
  const medplum = new MedplumClient({ baseUrl: env('MEDPLUM_BASE_URL'), fetch });
  await medplum.startClientLogin(env('MEDPLUM_CLIENT_ID'), env('MEDPLUM_CLIENT_SECRET'));
  return medplum;
}

function runtimeVersion(): DeployBotOptions['runtimeVersion'] {
  const runtime = process.env.MEDPLUM_BOT_RUNTIME || undefined;
  if (runtime !== undefined && runtime !== 'awslambda' && runtime !== 'vmcontext') {
    throw new Error(`MEDPLUM_BOT_RUNTIME must be awslambda or vmcontext, not ${runtime}`);
  }
  return runtime;
}

function readBundle(file: string): string {
  if (!fs.existsSync(file)) {
    throw new Error(`${path.relative(process.cwd(), file)} is missing: run npm run build:bot`);
  }
  return fs.readFileSync(file, 'utf8');
}

function report(bot: DeployedBot, file: string): void {
  console.log(`${bot.created ? 'Created' : 'Updated'} Bot/${bot.bot.id} and deployed ${path.basename(file)}`);
  for (const s of bot.subscriptions) {
    console.log(`Subscription/${s.id}: ${s.criteria} (${s.reason})`);
  }
}

async function main(args: readonly string[]): Promise<void> {
  const dryRun = args.includes('--dry-run');
  const bundleArg = args.find((a) => a.startsWith('--bundle='));
  const bundle = bundleArg ? path.resolve(bundleArg.slice('--bundle='.length)) : BOT_BUNDLE;
  const command = args.find((a) => !a.startsWith('--'));
  const runtime = runtimeVersion();
  const target = process.env.MEDPLUM_BASE_URL || '(MEDPLUM_BASE_URL not set)';

  if (command === 'all') {
    const built = await buildBot({ outfile: bundle });
    console.log(`Built ${path.relative(process.cwd(), built.outfile)}: ${built.bytes} bytes`);
    const options = { code: readBundle(bundle), ...(runtime ? { runtimeVersion: runtime } : {}) };
    if (dryRun) {
      console.log(`Dry run: nothing is sent. It would write to ${target}:`);
      for (const line of deployPlan(options)) {
        console.log(`  ${line}`);
      }
      return;
    }
    const { content, bot } = await deployAll(await signIn(), options);
    console.log(`Uploaded ${content.length} conformance resources by url|version`);
    report(bot, bundle);
    return;
  }
  if (command === 'content') {
    if (dryRun) {
      console.log(`Dry run: nothing is sent. It would write to ${target}:`);
      for (const { resource, url, version } of contentUploads()) {
        console.log(`  PUT ${resource.resourceType}?url=${url}&version=${version}`);
      }
      return;
    }
    const uploaded = await uploadContent(await signIn());
    console.log(`Uploaded ${uploaded.length} conformance resources by url|version`);
    return;
  }
  if (command === 'bot') {
    const options = { code: readBundle(bundle), ...(runtime ? { runtimeVersion: runtime } : {}) };
    if (dryRun) {
      console.log(`Dry run: nothing is sent. It would write to ${target}:`);
      for (const line of deployPlan(options).filter((l) => !/^PUT [A-Z]\w+\?url=/.test(l))) {
        console.log(`  ${line}`);
      }
      return;
    }
    report(await deployBot(await signIn(), options), bundle);
    return;
  }
  throw new Error('Usage: tsx src/tools/deploy-medplum.ts all|content|bot [--dry-run] [--bundle=<file>]');
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
