import type { WithId } from '@medplum/core';
import { allOk, badRequest, ContentType } from '@medplum/core';
import type { Binary, Bot } from '@medplum/fhirtypes';
import type { FhirRequest, FhirRouteHandler } from '@medplum/fhir-router';
import type { MockClient } from '@medplum/mock';
import {
  BOT_FILENAME,
  BOT_IDENTIFIER,
  BOT_NAME,
  deployBot,
  MEDPLUM_DEFAULT_MAX_JSON_BYTES,
} from '../../src/bot/deploy';
import { deployAll, deployPlan } from '../../src/bot/deploy-all';
import { botSubscriptions } from '../../src/bot/subscriptions';
import { CONTENT } from '../../src/core/conformance/content';
import { countByType, indexedMockClient } from './support';

// MockClient's admin route accepts only word characters in a project id.
const PROJECT = 'reFhirProject';

/** The JSON body limit the test double enforces, like a Medplum server's `maxJsonSize`. */
let maxJsonBytes = Number.POSITIVE_INFINITY;

/**
 * Test double of Medplum's `Bot/{id}/$deploy`, which the in-memory server lacks. It does what the
 * Medplum server documents for it: store the code in a Binary and point `Bot.executableCode` at it
 * (the Lambda upload that follows for `awslambda` bots is out of reach here). Like the server, it
 * refuses a JSON body over its limit.
 * See: https://www.medplum.com/docs/api/fhir/operations/bot-deploy
 */
const deployOperation: FhirRouteHandler = async (req: FhirRequest, repo) => {
  const { code, filename } = req.body as { code?: string; filename?: string };
  if (!code) {
    return [badRequest('Missing code')];
  }
  if (Buffer.byteLength(JSON.stringify(req.body), 'utf8') > maxJsonBytes) {
    return [badRequest('request entity too large')];
  }
  const bot = await repo.readResource<Bot>('Bot', req.params.id!);
  const binary = await repo.createResource<Binary>({
    resourceType: 'Binary',
    contentType: ContentType.JAVASCRIPT,
    data: Buffer.from(code, 'utf8').toString('base64'),
  });
  await repo.updateResource<Bot>({
    ...bot,
    executableCode: {
      contentType: ContentType.JAVASCRIPT,
      url: `Binary/${binary.id}`,
      title: filename ?? 'index.js',
    },
  });
  return [allOk];
};

let medplum: MockClient;

beforeAll(async () => {
  medplum = await indexedMockClient();
  medplum.router.add('POST', 'Bot/:id/$deploy', deployOperation);
});

beforeEach(() => {
  medplum.repo.clear();
  maxJsonBytes = Number.POSITIVE_INFINITY;
});

async function deployedCode(bot: WithId<Bot>): Promise<string> {
  const binary = await medplum.readReference<Binary>({ reference: bot.executableCode!.url! });
  return Buffer.from(binary.data!, 'base64').toString('utf8');
}

async function ourBots(): Promise<WithId<Bot>[]> {
  return medplum.searchResources('Bot', { identifier: `${BOT_IDENTIFIER.system}|${BOT_IDENTIFIER.value}` });
}

describe('deployBot', () => {
  test('creates the Bot in the project, deploys the code as CommonJS and subscribes it to our responses', async () => {
    const { bot, created, subscriptions } = await deployBot(medplum, {
      code: 'exports.handler = async () => 1;',
      projectId: PROJECT,
      runtimeVersion: 'vmcontext',
    });

    expect(created).toBe(true);
    expect(bot).toMatchObject({
      name: BOT_NAME,
      runtimeVersion: 'vmcontext',
      identifier: [BOT_IDENTIFIER],
      meta: { project: PROJECT },
      executableCode: { contentType: ContentType.JAVASCRIPT, title: BOT_FILENAME },
      sourceCode: { contentType: ContentType.JAVASCRIPT, title: BOT_FILENAME },
    });
    expect(await deployedCode(bot)).toBe('exports.handler = async () => 1;');

    const stored = await medplum.searchResources('Subscription', { url: `Bot/${bot.id}` });
    expect(stored.map((s) => s.id).sort()).toEqual(subscriptions.map((s) => s.id).sort());
    const wanted = botSubscriptions(`Bot/${bot.id}`, ['http://re-fhir.org/fhir/Questionnaire/re-evaluation']);
    expect(subscriptions).toEqual(wanted.map((w) => expect.objectContaining(w)));
  });

  test('a second deploy updates the same Bot and Subscriptions and deploys the new code', async () => {
    const first = await deployBot(medplum, { code: 'exports.handler = async () => 1;', projectId: PROJECT });
    const second = await deployBot(medplum, { code: 'exports.handler = async () => 2;' });

    expect(second.created).toBe(false);
    expect(second.bot.id).toBe(first.bot.id);
    expect((await ourBots()).map((b) => b.id)).toEqual([first.bot.id]);
    expect(second.subscriptions.map((s) => s.id)).toEqual(first.subscriptions.map((s) => s.id));
    expect(await medplum.searchResources('Subscription', { url: `Bot/${first.bot.id}` })).toHaveLength(2);
    expect(await deployedCode(second.bot)).toBe('exports.handler = async () => 2;');
  });

  test('a bundle larger than the server accepts as JSON fails with a message naming maxJsonSize', async () => {
    maxJsonBytes = MEDPLUM_DEFAULT_MAX_JSON_BYTES;
    const code = `exports.handler = async () => '${'x'.repeat(MEDPLUM_DEFAULT_MAX_JSON_BYTES)}';`;

    const error = await deployBot(medplum, { code, projectId: PROJECT }).then(
      () => undefined,
      (e: unknown) => e as Error
    );

    expect(error?.message).toMatch(
      /^Deploying Bot\/[\w-]+ failed: request entity too large\. The request body is 1\.05 MB; .*maxJsonSize/
    );
    const [bot] = await ourBots();
    expect(bot?.executableCode).toBeUndefined();
    expect(bot?.sourceCode?.contentType).toBe(ContentType.TYPESCRIPT);
    expect(await medplum.searchResources('Subscription', {})).toHaveLength(0);
  });

  test('leaves Subscriptions of other Bots alone', async () => {
    const other = await medplum.createResource(botSubscriptions('Bot/someone-else', ['http://x/Q'])[0]!);
    const { bot } = await deployBot(medplum, {
      code: 'exports.handler = async () => 1;',
      projectId: PROJECT,
    });
    expect(await medplum.readResource('Subscription', other.id)).toEqual(other);
    expect(await medplum.searchResources('Subscription', {})).toHaveLength(3);
    expect(bot.id).toBeDefined();
  });

  test('an admin answer that is not a Bot stops the deploy before anything else is written', async () => {
    // MockClient answers `{ ok: true }` for a project id its admin route does not match.
    await expect(deployBot(medplum, { code: 'x', projectId: 'not-a-mock-project' })).rejects.toThrow(
      'Creating the Bot in project not-a-mock-project returned no Bot'
    );
    expect(await medplum.searchResources('Subscription', {})).toHaveLength(0);
  });

  test('without a project to create the Bot in it stops before writing anything', async () => {
    // Medplum 5's MockClient is signed in to a project, 4.5's is not: no project either way.
    jest.spyOn(medplum, 'getProject').mockReturnValue(undefined);
    await expect(deployBot(medplum, { code: 'exports.handler = async () => 1;' })).rejects.toThrow(/project/);
    expect(await medplum.searchResources('Bot', {})).toHaveLength(0);
    expect(await medplum.searchResources('Subscription', {})).toHaveLength(0);
  });
});

describe('deployAll (npm run deploy)', () => {
  test('deploys content then the bot; a second run updates the same resources and adds only the two Binaries of the new code', async () => {
    const code = 'exports.handler = async () => 1;';
    const first = await deployAll(medplum, { code, projectId: PROJECT });
    const afterFirst = await countByType(medplum);
    const second = await deployAll(medplum, { code });

    expect(first.content).toHaveLength(CONTENT.length);
    expect(second.content).toEqual(first.content);
    expect(second.bot.created).toBe(false);
    expect(second.bot.bot.id).toBe(first.bot.bot.id);
    expect(second.bot.subscriptions.map((s) => s.id)).toEqual(first.bot.subscriptions.map((s) => s.id));
    // Each deploy stores the code anew (Medplum's $deploy writes a Binary, the source attachment
    // another); nothing else grows.
    expect(await countByType(medplum)).toEqual({ ...afterFirst, Binary: afterFirst.Binary! + 2 });
  });

  test('the dry-run plan names each write of a real run, in its order, and the body size', async () => {
    const code = 'exports.handler = async () => 1;';
    const upsert = jest.spyOn(medplum, 'upsertResource');
    await deployAll(medplum, { code, projectId: PROJECT });
    const upserted = upsert.mock.calls.map(
      ([resource, query]) =>
        `PUT ${resource.resourceType}?url=${String((query as Record<string, string>).url)}&version=${String((query as Record<string, string>).version)}`
    );
    upsert.mockRestore();

    const plan = deployPlan({ code });
    expect(plan.slice(0, upserted.length)).toEqual(upserted);
    const body = Buffer.byteLength(JSON.stringify({ code, filename: BOT_FILENAME }), 'utf8');
    expect(plan.slice(upserted.length)).toEqual([
      expect.stringContaining(`identifier=${BOT_IDENTIFIER.system}|${BOT_IDENTIFIER.value}`),
      expect.stringContaining(`$deploy: ${BOT_FILENAME}, a JSON body of ${body} bytes`),
      expect.stringContaining('sourceCode'),
      ...botSubscriptions('Bot/{id}', ['http://re-fhir.org/fhir/Questionnaire/re-evaluation']).map((s) =>
        expect.stringContaining(`${s.criteria} (${s.reason})`)
      ),
    ]);
  });
});
