/**
 * `npm run bench`: the evaluation engine's benchmark (issue 4, Performance). Started by
 * `bench/launch.mjs`, which bundles this file like the library and runs it on the chosen Node.
 *
 * Sections (all by default; `--only=evaluation,stages,extraction,heap,cold` picks some; stages needs evaluation):
 * - evaluation: the full `evaluateResponse` (validate in → extract → apply → validate out → bundle,
 *   every output validation tier on) on the 4 shipped examples, one core, with two baselines measured
 *   in the same run: a JSON parse + stringify round trip of the response and its output Bundle (the
 *   floor) and Medplum's `validateResource` of the response alone (the peer floor);
 * - stages: the CPU of each stage (input validation, checks and calculation, extraction, output
 *   validation, and the rest: `$apply` and the Bundle) on the same examples;
 * - extraction: template extraction alone, ours against `@aehrc/sdc-template-extract`, on the same
 *   Questionnaire and the same completed responses;
 * - heap: heap used after 1,000 evaluations and after 100,000, in a fresh process with `--expose-gc`;
 * - cold: fresh processes importing the built library (`dist/`) and evaluating one response.
 * Prints a table and writes the figures as JSON to `bench/results/`. Not a test: nothing is asserted.
 */
import type { Questionnaire, QuestionnaireResponse } from '@medplum/fhirtypes';
import { validateResource } from '@medplum/core';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { evaluateResponse } from '../src/core/operations/evaluate';
import { extractResources } from '../src/core/extract/extract';
import { calculateResponse } from '../src/core/response/calculate';
import { checkResponse } from '../src/core/operations/response-input';
import { validateOutput } from '../src/core/operations/validate-output';
import { PROFILE } from '../src/core/constants';
import { createNodeEngine } from '../src/node/engine';
import type { Measurement } from './measure';
import { measure, measureAsync, median } from './measure';

const ROOT = resolve(process.env.BENCH_ROOT ?? process.cwd());
const EXAMPLES = join(ROOT, 'profiles/examples');
const RESULTS = join(ROOT, 'bench/results');
const QUESTIONNAIRE = 'http://re-fhir.org/fhir/Questionnaire/re-evaluation';
/** Evaluations of the four examples in turn before anything is measured (see evaluationSection). */
const STEADY_STATE_WARMUP = 800;

interface Args {
  readonly sections: ReadonlySet<string>;
  readonly quick: boolean;
  readonly heapEvaluations: number;
}

function parseArgs(argv: readonly string[]): Args {
  const only = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
  const quick = argv.includes('--quick');
  const heap = Number(argv.find((a) => a.startsWith('--heap='))?.slice('--heap='.length) ?? NaN);
  return {
    sections: new Set(only ? only.split(',') : ['evaluation', 'stages', 'extraction', 'heap', 'cold']),
    quick,
    heapEvaluations: Number.isFinite(heap) ? heap : quick ? 10_000 : 100_000,
  };
}

interface Example {
  readonly name: string;
  readonly response: QuestionnaireResponse;
}

function examples(): Example[] {
  return readdirSync(EXAMPLES)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({
      name: f.replace(/^QuestionnaireResponse-re-example-/, '').replace(/\.json$/, ''),
      response: JSON.parse(readFileSync(join(EXAMPLES, f), 'utf8')) as QuestionnaireResponse,
    }));
}

// ---------------------------------------------------------------------------------------------
// evaluation

/** CPU per response of each stage of the full evaluation, measured alone on the same inputs. */
interface StageRow {
  readonly example: string;
  /** Base + profile validation of the input response (the validator's calls only). */
  readonly inputValidation: Measurement;
  /** Every check of the input (validation, Questionnaire rules) and the SDC calculation. */
  readonly check: Measurement;
  /** The SDC calculation alone. */
  readonly calculate: Measurement;
  /** Template extraction alone, from the completed response. */
  readonly extract: Measurement;
  /** Validation of every generated resource (all tiers, against its profiles). */
  readonly outputValidation: Measurement;
  /** The rest of the full evaluation: `$apply`, narratives, Provenance and the Bundle (full − the above). */
  readonly applyAndBundleMicroseconds: number;
}

function stageSection(args: Args, full: readonly EvaluationRow[]): StageRow[] {
  const deps = createNodeEngine();
  const timing = { rounds: args.quick ? 3 : 5, seconds: args.quick ? 0.3 : 0.6, warmup: 20 };
  return examples().map(({ name, response }, i): StageRow => {
    const profile = { responseProfiles: [PROFILE.questionnaireResponse] };
    const checked = checkResponse(response, deps, profile);
    const questionnaire = checked.questionnaire;
    const outputEntries = evaluateResponse(response, deps).bundle.entry ?? [];
    const inputValidation = measure(() => {
      // As the engine does it: base tiers once, then the profile (`checkResponse`).
      const run = deps.validator.begin(response);
      run.base();
      run.withProfile(PROFILE.questionnaireResponse);
    }, timing);
    const check = measure(() => checkResponse(response, deps, profile), timing);
    const calculate = measure(
      () => calculateResponse(response, questionnaire, { clock: deps.clock }),
      timing
    );
    const extract = measure(
      () => extractResources(questionnaire, checked.completed, { newId: deps.newId }),
      timing
    );
    const outputValidation = measure(() => validateOutput(outputEntries, deps), timing);
    const total = full[i]!.evaluate.cpuMicroseconds;
    return {
      example: name,
      inputValidation,
      check,
      calculate,
      extract,
      outputValidation,
      applyAndBundleMicroseconds:
        total - check.cpuMicroseconds - extract.cpuMicroseconds - outputValidation.cpuMicroseconds,
    };
  });
}

interface EvaluationRow {
  readonly example: string;
  readonly outputResources: number;
  readonly evaluate: Measurement;
  readonly jsonRoundTrip: Measurement;
  readonly medplumValidateResource: Measurement;
  /** How many times slower than the floor and than the peer floor. */
  readonly timesFloor: number;
  readonly timesPeer: number;
}

function evaluationSection(args: Args): {
  rows: EvaluationRow[];
  overall: Measurement;
  inline: Measurement;
} {
  const deps = createNodeEngine();
  const all = examples();
  const timing = { rounds: args.quick ? 3 : 5, seconds: args.quick ? 0.5 : 1 };
  // V8 optimises the engine's code over several hundred evaluations, on background threads whose CPU
  // the process's usage counts: without this warm-up the first examples' rounds carry that compilation.
  for (let i = 0; i < STEADY_STATE_WARMUP; i++) {
    evaluateResponse(all[i % all.length]!.response, deps);
  }
  const rows = all.map(({ name, response }): EvaluationRow => {
    const first = evaluateResponse(response, deps);
    const responseText = JSON.stringify(response);
    const bundleText = JSON.stringify(first.bundle);
    const evaluate = measure(() => evaluateResponse(response, deps), {
      ...timing,
      warmup: 50,
      latencies: true,
    });
    const jsonRoundTrip = measure(
      () => JSON.stringify(JSON.parse(responseText)).length + JSON.stringify(JSON.parse(bundleText)).length,
      { ...timing, warmup: 200 }
    );
    const medplumValidateResource = measure(() => validateResource(response), { ...timing, warmup: 200 });
    return {
      example: name,
      outputResources: first.bundle.entry?.length ?? 0,
      evaluate,
      jsonRoundTrip,
      medplumValidateResource,
      timesFloor: evaluate.microseconds / jsonRoundTrip.microseconds,
      timesPeer: evaluate.microseconds / medplumValidateResource.microseconds,
    };
  });
  // The four examples in turn, as a mixed stream.
  let next = 0;
  const overall = measure(() => evaluateResponse(all[next++ % all.length]!.response, deps), {
    ...timing,
    warmup: 20,
    latencies: true,
  });
  // The same stream with the Questionnaire sent inline, as a new object per request (as each HTTP
  // request parses its own): every cache keyed by object identity misses unless content is interned.
  const questionnaireText = JSON.stringify(
    deps.registry.resolve<Questionnaire>(QUESTIONNAIRE, 'Questionnaire')
  );
  const copies = Array.from({ length: 32 }, () => JSON.parse(questionnaireText) as Questionnaire);
  let nextInline = 0;
  const inline = measure(
    () => {
      const i = nextInline++;
      return evaluateResponse(all[i % all.length]!.response, deps, {
        questionnaire: copies[i % copies.length]!,
      });
    },
    { ...timing, warmup: 20 }
  );
  return { rows, overall, inline };
}

// ---------------------------------------------------------------------------------------------
// extraction

interface ExtractionRow {
  readonly example: string;
  readonly ours: Measurement;
  readonly aehrc: Measurement;
  readonly oursEntries: number;
  readonly aehrcEntries: number;
  /** aehrc time / our time. */
  readonly speedup: number;
}

interface AehrcExtract {
  inAppExtract: (
    response: QuestionnaireResponse,
    questionnaire: Questionnaire,
    comparison: null
  ) => Promise<{ extractSuccess: boolean; extractResult?: { extractedBundle?: { entry?: unknown[] } } }>;
}

async function extractionSection(args: Args): Promise<ExtractionRow[]> {
  const deps = createNodeEngine();
  const questionnaire = deps.registry.resolve<Questionnaire>(QUESTIONNAIRE, 'Questionnaire')!;
  // The package's ESM entry does not load in Node (toolchain.md §6): its CommonJS build does.
  const aehrc = createRequire(join(ROOT, 'package.json'))('@aehrc/sdc-template-extract') as AehrcExtract;
  const timing = { rounds: args.quick ? 3 : 5, seconds: args.quick ? 0.5 : 1 };
  const rows: ExtractionRow[] = [];
  for (const { name, response } of examples()) {
    // Both extract from the completed response (the SDC calculation has filled the case features).
    const completed = calculateResponse(response, questionnaire, { clock: deps.clock }).response;
    const oursEntries =
      extractResources(questionnaire, completed, { newId: deps.newId }).bundle.entry?.length ?? 0;
    const theirs = await aehrc.inAppExtract(completed, questionnaire, null);
    const aehrcEntries = theirs.extractResult?.extractedBundle?.entry?.length ?? 0;
    const ours = measure(() => extractResources(questionnaire, completed, { newId: deps.newId }), {
      ...timing,
      warmup: 50,
      latencies: true,
    });
    const aehrcTime = await measureAsync(() => aehrc.inAppExtract(completed, questionnaire, null), {
      ...timing,
      warmup: 5,
    });
    rows.push({
      example: name,
      ours,
      aehrc: aehrcTime,
      oursEntries,
      aehrcEntries,
      speedup: aehrcTime.microseconds / ours.microseconds,
    });
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// heap (run in its own process: `--section=heap-child`)

interface HeapResult {
  readonly evaluations: number;
  readonly heapAfter1000MB: number;
  readonly heapAfterAllMB: number;
  readonly differenceMB: number;
  readonly seconds: number;
}

function heapChild(total: number): HeapResult {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) {
    throw new Error('the heap section needs node --expose-gc');
  }
  const deps = createNodeEngine();
  const all = examples();
  const settle = (): number => {
    for (let i = 0; i < 3; i++) {
      gc();
    }
    return process.memoryUsage().heapUsed / 2 ** 20;
  };
  const started = Date.now();
  let done = 0;
  const run = (until: number): void => {
    for (; done < until; done++) {
      evaluateResponse(all[done % all.length]!.response, deps);
    }
  };
  run(Math.min(1000, total));
  const at1000 = settle();
  run(total);
  const atEnd = settle();
  return {
    evaluations: total,
    heapAfter1000MB: at1000,
    heapAfterAllMB: atEnd,
    differenceMB: atEnd - at1000,
    seconds: (Date.now() - started) / 1000,
  };
}

function heapSection(args: Args): HeapResult {
  const out = execFileSync(
    process.execPath,
    ['--expose-gc', process.argv[1]!, '--section=heap-child', `--heap=${args.heapEvaluations}`],
    { env: { ...process.env, BENCH_ROOT: ROOT }, encoding: 'utf8', maxBuffer: 1 << 20 }
  );
  return JSON.parse(out) as HeapResult;
}

// ---------------------------------------------------------------------------------------------
// cold start: fresh processes on the built library

interface ColdRun {
  readonly importMs: number;
  readonly firstEvaluationMs: number;
  /** Since the process started (Node's own start-up included). */
  readonly sinceProcessStartMs: number;
  /** CPU time of the process until then (user + system, all threads). */
  readonly cpuMs: number;
  /** Outside view: spawn to exit. */
  readonly wallMs: number;
}

interface ColdResult {
  readonly format: 'cjs' | 'esm';
  readonly runs: ColdRun[];
  readonly medianImportPlusFirstMs: number;
  readonly medianSinceProcessStartMs: number;
  readonly medianCpuMs: number;
  readonly medianWallMs: number;
}

function coldSection(args: Args): ColdResult[] {
  const example = join(EXAMPLES, 'QuestionnaireResponse-re-example-diabetic-confirmed.json');
  const runs = args.quick ? 3 : 7;
  return (['cjs', 'esm'] as const).map((format) => {
    const script = join(ROOT, `bench/cold-start.${format === 'cjs' ? 'cjs' : 'mjs'}`);
    const results: ColdRun[] = [];
    for (let i = 0; i < runs; i++) {
      const start = process.hrtime.bigint();
      const out = execFileSync(process.execPath, [script, example], { encoding: 'utf8', cwd: ROOT });
      const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
      results.push({ ...(JSON.parse(out) as Omit<ColdRun, 'wallMs'>), wallMs });
    }
    return {
      format,
      runs: results,
      medianImportPlusFirstMs: median(results.map((r) => r.importMs + r.firstEvaluationMs)),
      medianSinceProcessStartMs: median(results.map((r) => r.sinceProcessStartMs)),
      medianCpuMs: median(results.map((r) => r.cpuMs)),
      medianWallMs: median(results.map((r) => r.wallMs)),
    };
  });
}

// ---------------------------------------------------------------------------------------------
// report

const fixed = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toFixed(digits) : '-');

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (process.argv.includes('--section=heap-child')) {
    process.stdout.write(JSON.stringify(heapChild(args.heapEvaluations)));
    return;
  }
  const environment = {
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform} ${process.arch}`,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    date: new Date().toISOString(),
    quick: args.quick,
  };
  console.log(`re-fhir bench: Node ${environment.node} (V8 ${environment.v8}), ${environment.cpu}`);
  const results: Record<string, unknown> = { environment };

  if (args.sections.has('evaluation')) {
    const { rows, overall, inline } = evaluationSection(args);
    results.evaluation = { rows, overall, inline };
    console.log('\nFull evaluation (validate in → extract → apply → validate out → bundle; one core)');
    console.log(
      table(
        [
          'example',
          'resources',
          'QR/s',
          'p50 ms',
          'p99 ms',
          'CPU ms/QR',
          'floor µs',
          '× floor',
          'peer µs',
          '× peer',
        ],
        [
          ...rows.map((r) => [
            r.example,
            String(r.outputResources),
            fixed(r.evaluate.perSecond, 1),
            fixed(r.evaluate.p50Ms ?? NaN, 2),
            fixed(r.evaluate.p99Ms ?? NaN, 2),
            fixed(r.evaluate.cpuMicroseconds / 1000, 2),
            fixed(r.jsonRoundTrip.microseconds, 1),
            fixed(r.timesFloor, 0),
            fixed(r.medplumValidateResource.microseconds, 0),
            fixed(r.timesPeer, 1),
          ]),
          [
            'all four in turn',
            '',
            fixed(overall.perSecond, 1),
            fixed(overall.p50Ms ?? NaN, 2),
            fixed(overall.p99Ms ?? NaN, 2),
            fixed(overall.cpuMicroseconds / 1000, 2),
            '',
            '',
            '',
            '',
          ],
          [
            'all four, Questionnaire inline',
            '',
            fixed(inline.perSecond, 1),
            '',
            '',
            fixed(inline.cpuMicroseconds / 1000, 2),
            '',
            `${fixed(inline.cpuMicroseconds / overall.cpuMicroseconds, 2)}× shipped`,
            '',
            '',
          ],
        ]
      )
    );
    console.log(
      'floor = JSON parse + stringify of the response and its output Bundle; peer = Medplum validateResource of the response alone'
    );
    // The goal of issue 13, as one line: CPU per response of the four in turn, its floor, their ratio.
    const cpuPerResponse = median(rows.map((r) => r.evaluate.cpuMicroseconds));
    const floor = median(rows.map((r) => r.jsonRoundTrip.cpuMicroseconds));
    results.summary = { cpuPerResponseMicroseconds: cpuPerResponse, floorMicroseconds: floor };
    console.log(
      `\nSummary (median of the four examples): full evaluation ${fixed(cpuPerResponse / 1000, 2)} ms CPU per response, ` +
        `floor ${fixed(floor, 0)} µs CPU, ratio ${fixed(cpuPerResponse / floor, 1)}× (goal: ≤ 1 ms and ≤ 5×)`
    );

    if (args.sections.has('stages')) {
      const stages = stageSection(args, rows);
      results.stages = stages;
      console.log('\nStages, CPU µs per response (each measured alone on the same inputs)');
      console.log(
        table(
          [
            'example',
            'validate in',
            'check+calc',
            'calculate',
            'extract',
            'validate out',
            'apply+bundle',
            'full',
          ],
          stages.map((s, i) => [
            s.example,
            fixed(s.inputValidation.cpuMicroseconds, 0),
            fixed(s.check.cpuMicroseconds, 0),
            fixed(s.calculate.cpuMicroseconds, 0),
            fixed(s.extract.cpuMicroseconds, 0),
            fixed(s.outputValidation.cpuMicroseconds, 0),
            fixed(s.applyAndBundleMicroseconds, 0),
            fixed(rows[i]!.evaluate.cpuMicroseconds, 0),
          ])
        )
      );
      console.log(
        'check+calc = input validation + Questionnaire rules + SDC calculation; apply+bundle = full − check+calc − extract − validate out'
      );
    }
  }

  if (args.sections.has('extraction')) {
    const rows = await extractionSection(args);
    results.extraction = rows;
    console.log(
      '\nTemplate extraction alone, from the completed response (ours vs @aehrc/sdc-template-extract)'
    );
    console.log(
      table(
        ['example', 'ours µs', 'ours/s', 'aehrc µs', 'aehrc/s', 'speed-up', 'entries ours/aehrc'],
        rows.map((r) => [
          r.example,
          fixed(r.ours.microseconds, 0),
          fixed(r.ours.perSecond, 0),
          fixed(r.aehrc.microseconds, 0),
          fixed(r.aehrc.perSecond, 1),
          `${fixed(r.speedup, 1)}×`,
          `${r.oursEntries}/${r.aehrcEntries}`,
        ])
      )
    );
  }

  if (args.sections.has('heap')) {
    console.log(`\nHeap: ${args.heapEvaluations} evaluations in a fresh process (this takes a while)…`);
    const heap = heapSection(args);
    results.heap = heap;
    console.log(
      table(
        ['evaluations', 'heap after 1,000 (MB)', 'heap at end (MB)', 'difference (MB)', 'seconds'],
        [
          [
            String(heap.evaluations),
            fixed(heap.heapAfter1000MB, 1),
            fixed(heap.heapAfterAllMB, 1),
            fixed(heap.differenceMB, 2),
            fixed(heap.seconds, 0),
          ],
        ]
      )
    );
  }

  if (args.sections.has('cold')) {
    const cold = coldSection(args);
    results.coldStart = cold;
    console.log('\nCold start: fresh process, import of the built library (dist/) + first evaluation');
    console.log(
      table(
        [
          'module',
          'runs',
          'import + first evaluation ms',
          'since process start ms',
          'CPU ms',
          'spawn to exit ms',
        ],
        cold.map((c) => [
          c.format === 'cjs' ? 'dist/cjs (require)' : 'dist/esm (import)',
          String(c.runs.length),
          fixed(c.medianImportPlusFirstMs, 0),
          fixed(c.medianSinceProcessStartMs, 0),
          fixed(c.medianCpuMs, 0),
          fixed(c.medianWallMs, 0),
        ])
      )
    );
  }

  mkdirSync(RESULTS, { recursive: true });
  const file = join(
    RESULTS,
    `bench-node${process.versions.node.split('.')[0]}-${environment.date.replace(/[:.]/g, '-')}.json`
  );
  writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  console.log(`\nResults written to ${file}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
