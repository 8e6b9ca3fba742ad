/**
 * HTTP benchmark of `POST /fhir/QuestionnaireResponse/$re-evaluate` with the 4 shipped examples, served
 * as `npm start` serves it (the evaluation in a pool of worker threads, WORKERS of them, default one per
 * core), against baselines measured in the same run:
 * - echo: a bare Express route that parses the same JSON bodies and sends them back;
 * - library: `evaluateResponse` called in-process on the same engine, one call at a time; multiplied by
 *   the number of workers, it is what the pool could give at best (issue 13: HTTP ≥ 90% of it);
 * - pool: the same evaluations sent to the pool directly (10 in flight), without HTTP, answered as the
 *   route asks for them (the Bundle serialised in the worker).
 * autocannon (10 connections) runs in a child process (this script again, with BENCH_HTTP_LOAD set), so
 * that this process's main thread is the server's alone; on the same machine it still competes with the
 * server for the cores, so absolute req/s understate what a client elsewhere would see, for the echo
 * baseline most of all.
 *
 * - inline: the $re-evaluate run again (BENCH_BASELINE_DURATION) with the shipped Questionnaire sent inline
 *   in Parameters (INLINE_DEFINITIONS on), after the library's second run.
 * Per run it also reports the main thread's CPU per request (Linux: the thread's utime + stime from
 * /proc, 10 ms ticks, so only over runs of seconds): what the server's one shared thread spends per
 * request. For the echo run it is a bare Express parse + send; for $re-evaluate, everything around the
 * evaluation (negotiation, body parse, handing to the pool, sending the bytes, logging).
 *
 * Run: npm run bench:http. Durations (seconds): BENCH_DURATION (the $re-evaluate run, default 60; RSS is
 * sampled every second, and its growth is measured over the last half of the run, i.e. the last 30 s of a
 * 60 s run), BENCH_BASELINE_DURATION (each baseline, default 10); WORKERS (default
 * os.availableParallelism()). For a short comparison run: BENCH_DURATION=15 BENCH_BASELINE_DURATION=5.
 * RSS per worker is the process's RSS less its RSS before the pool started, divided by the workers
 * (threads share one process). Pool start is the time from creating the pool to every worker having
 * loaded the content and prepared its validators (ajv compiles only on a first failure). Results also go to bench/results/http.json.
 */
import { execFileSync, fork } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { availableParallelism, loadavg } from 'node:os';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import express from 'express';
import { evaluateResponse } from '../src/core/operations/evaluate';
import { createApp, WARM_TYPES } from '../src/http/app';
import { createLogger } from '../src/http/logging';
import { WorkerPool } from '../src/http/pool/pool';
import { createNodeEngine } from '../src/node/engine';

/** The repository (bench/launch.mjs runs the bundle from bench/results/.build with BENCH_ROOT set). */
const ROOT = resolve(process.env.BENCH_ROOT ?? process.cwd());
const DURATION = Number(process.env.BENCH_DURATION ?? 60);
const BASELINE_DURATION = Number(process.env.BENCH_BASELINE_DURATION ?? 10);
const CONNECTIONS = 10;
const WORKERS = Number(process.env.WORKERS ?? availableParallelism());
const EXAMPLES = ['turp-tamsulosin', 'diabetic-confirmed', 'anejaculation', 'distress-pe'].map((name) =>
  readFileSync(join(ROOT, `profiles/examples/QuestionnaireResponse-re-example-${name}.json`), 'utf8')
);
/** The same responses in Parameters that carry the shipped Questionnaire (269 KB) inline. */
const INLINE_EXAMPLES = ((): string[] => {
  const questionnaire = JSON.parse(
    readFileSync(join(ROOT, 'profiles/Questionnaire-re-evaluation.json'), 'utf8')
  ) as unknown;
  return EXAMPLES.map((text) =>
    JSON.stringify({
      resourceType: 'Parameters',
      parameter: [
        { name: 'questionnaire-response', resource: JSON.parse(text) as unknown },
        { name: 'questionnaire', resource: questionnaire },
      ],
    })
  );
})();

interface Figures {
  readonly name: string;
  readonly reqPerSec: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  readonly requests: number;
  /** The main thread's CPU per request (ms), where the platform tells it. */
  readonly mainCpuMs?: number;
}

/** Clock ticks per second of /proc's CPU times. */
const CLOCK_TICKS = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * CPU time (ms) of this process's main thread alone (its thread id is the process id), from Linux's
 * /proc; undefined elsewhere. process.cpuUsage() would add the pool's workers.
 */
function mainThreadCpuMs(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces, hence the last ')'): utime, stime are 14, 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** Runs `work` and adds the main thread's CPU per request it made. */
async function withMainCpu(work: () => Promise<Figures>): Promise<Figures> {
  const before = mainThreadCpuMs();
  const figures = await work();
  const after = mainThreadCpuMs();
  return before === undefined || after === undefined || figures.requests === 0
    ? figures
    : { ...figures, mainCpuMs: (after - before) / figures.requests };
}

function listen(app: express.Express): Promise<{ server: Server; url: string }> {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })
    );
  });
}

/**
 * Loads the server for `seconds` and measures the main thread's CPU per request over the steady part of
 * the run: from 1 s after the load generator started sending to the last sample before the end,
 * counting the requests the server received in between.
 */
async function load(
  name: string,
  url: string,
  seconds: number,
  server: Server,
  inline = false
): Promise<Figures> {
  let received = 0;
  const count = (): void => void received++;
  server.on('request', count);
  const samples: { cpu: number | undefined; received: number }[] = [];
  let sending: number | undefined;
  const sampler = setInterval(() => {
    if (sending !== undefined && performance.now() - sending >= 1000) {
      samples.push({ cpu: mainThreadCpuMs(), received });
    }
  }, 250);
  try {
    const figures = await loadOnce(name, url, seconds, inline, () => (sending = performance.now()));
    const [from, to] = [samples[0], samples[samples.length - 1]];
    return from?.cpu !== undefined && to?.cpu !== undefined && to.received > from.received
      ? { ...figures, mainCpuMs: (to.cpu - from.cpu) / (to.received - from.received) }
      : figures;
  } finally {
    clearInterval(sampler);
    server.off('request', count);
  }
}

/** What the load generator's process reports (the part of autocannon's result used here). */
interface LoadResult {
  readonly reqPerSec: number;
  readonly total: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
}

/**
 * Runs autocannon in a child process (this same script, with BENCH_HTTP_LOAD set): in this process it
 * would cost the server's main thread CPU (in a worker thread too: it reports to the main thread).
 */
function loadOnce(
  name: string,
  url: string,
  seconds: number,
  inline: boolean,
  onSending: () => void
): Promise<Figures> {
  return new Promise<Figures>((resolve, reject) => {
    const child = fork(__filename, [], {
      env: { ...process.env, BENCH_HTTP_LOAD: JSON.stringify({ url, seconds, inline }) },
    });
    child.on('message', (message: 'sending' | LoadResult) => {
      if (message === 'sending') {
        onSending();
        return;
      }
      resolve({
        name,
        reqPerSec: message.reqPerSec,
        p50: message.p50,
        p99: message.p99,
        errors: message.errors,
        requests: message.total,
      });
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`The load generator exited (code ${code})`)));
  });
}

/** The child process of {@link loadOnce}: 10 connections for `seconds`, the result to the parent. */
async function generateLoad({
  url,
  seconds,
  inline,
}: {
  url: string;
  seconds: number;
  inline: boolean;
}): Promise<void> {
  const send = (message: 'sending' | LoadResult): Promise<void> =>
    new Promise((resolve) => process.send!(message, undefined, undefined, () => resolve()));
  await send('sending');
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    requests: (inline ? INLINE_EXAMPLES : EXAMPLES).map((body) => ({
      method: 'POST' as const,
      headers: { 'content-type': 'application/fhir+json' },
      body,
    })),
  });
  await send({
    reqPerSec: result.requests.average,
    total: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  });
  process.disconnect();
}

function library(engine: ReturnType<typeof createNodeEngine>, seconds: number, name = 'library'): Figures {
  const parsed = EXAMPLES.map((text) => JSON.parse(text) as unknown);
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  let errors = 0;
  for (let i = 0; performance.now() < end; i++) {
    const started = performance.now();
    try {
      evaluateResponse(parsed[i % parsed.length], engine);
    } catch {
      errors++;
    }
    latencies.push(performance.now() - started);
  }
  latencies.sort((a, b) => a - b);
  const at = (q: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return {
    name,
    reqPerSec: latencies.length / seconds,
    p50: at(0.5),
    p99: at(0.99),
    errors,
    requests: latencies.length,
  };
}

const mb = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;

/** The evaluations sent straight to the pool, `CONNECTIONS` in flight: the pool without HTTP. */
async function poolDirect(pool: WorkerPool, seconds: number): Promise<Figures> {
  const parsed = EXAMPLES.map((text) => JSON.parse(text) as unknown);
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  let errors = 0;
  let next = 0;
  const lane = async (): Promise<void> => {
    while (performance.now() < end) {
      const started = performance.now();
      try {
        await pool.run({
          op: 're-evaluate',
          response: parsed[next++ % parsed.length],
          options: {},
          encode: { pretty: false },
        });
      } catch {
        errors++;
      }
      latencies.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, lane));
  latencies.sort((a, b) => a - b);
  const at = (q: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return {
    name: `pool directly (${WORKERS} workers, ${CONNECTIONS} in flight)`,
    reqPerSec: latencies.length / seconds,
    p50: at(0.5),
    p99: at(0.99),
    errors,
    requests: latencies.length,
  };
}

async function main(): Promise<void> {
  const engine = createNodeEngine();
  // Production logging (one JSON line per request, written as the server writes it), to nowhere.
  const logger = createLogger('info', '/dev/null');
  engine.validator.warm(WARM_TYPES);
  const rssBeforePool = process.memoryUsage().rss;
  const poolStarted = performance.now();
  // As server.ts builds it; the queue is long enough that 10 connections never meet a 503.
  const pool = new WorkerPool({
    size: WORKERS,
    queueLimit: 64,
    budgetMs: 10_000,
    warmTypes: WARM_TYPES,
    logger,
  });
  await pool.ready();
  const poolStartMs = performance.now() - poolStarted;
  // Inline content allowed, for the inline run (the shipped-content runs do not send any).
  const app = createApp({ engine, logger, tasks: pool, inlineDefinitions: true });
  const fhir = await listen(app);

  const echoApp = express();
  echoApp.use(express.json({ limit: '1mb', type: ['application/json', 'application/fhir+json'] }));
  echoApp.post('/echo', (req, res) => {
    res.type('application/fhir+json').send(JSON.stringify(req.body));
  });
  const echo = await listen(echoApp);

  // Warm-up: the first evaluations compile validators and FHIRPath, and the JIT settles. By count, not
  // time: on a loaded machine a few seconds may not see the first evaluations through.
  const parsed = EXAMPLES.map((text) => JSON.parse(text) as unknown);
  for (let i = 0; i < 40; i++) {
    evaluateResponse(parsed[i % parsed.length], engine);
  }
  // The pool's workers too, with 10 in flight (the queue is bounded).
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async (_, lane) => {
      for (let i = 0; i < 4 * WORKERS; i++) {
        await pool.run({ op: 're-evaluate', response: parsed[(lane + i) % parsed.length], options: {} });
      }
    })
  );
  await load('warm-up', `${fhir.url}/fhir/QuestionnaireResponse/$re-evaluate`, 3, fhir.server);

  const rssAfterWarmUp = process.memoryUsage().rss;
  console.log(
    `baselines: ${BASELINE_DURATION} s each; $re-evaluate: ${DURATION} s; ${CONNECTIONS} connections`
  );
  const echoFigures = await load(
    'echo (bare Express, parse + send)',
    `${echo.url}/echo`,
    BASELINE_DURATION,
    echo.server
  );
  const libraryFigures = library(engine, BASELINE_DURATION, 'library (in-process, sequential), before');
  const poolFigures = await withMainCpu(() => poolDirect(pool, BASELINE_DURATION));

  const rss: { t: number; rss: number }[] = [];
  const started = Date.now();
  const sampler = setInterval(
    () => rss.push({ t: (Date.now() - started) / 1000, rss: process.memoryUsage().rss }),
    1000
  );
  const http = await load(
    '$re-evaluate over HTTP',
    `${fhir.url}/fhir/QuestionnaireResponse/$re-evaluate`,
    DURATION,
    fhir.server
  );
  clearInterval(sampler);
  rss.push({ t: (Date.now() - started) / 1000, rss: process.memoryUsage().rss });
  // The machine's load drifts; a second library run after the HTTP run shows how much.
  const libraryAfter = library(engine, BASELINE_DURATION, 'library (in-process, sequential), after');
  // The Questionnaire sent inline: each request carries 269 KB more to read, hand over and intern.
  const inlineFigures = await load(
    '$re-evaluate over HTTP, Questionnaire inline',
    `${fhir.url}/fhir/QuestionnaireResponse/$re-evaluate`,
    BASELINE_DURATION,
    fhir.server,
    true
  );
  const libraryRate = (libraryFigures.reqPerSec + libraryAfter.reqPerSec) / 2;

  const last = rss[rss.length - 1]!;
  const half = rss.find((s) => s.t >= DURATION / 2) ?? rss[0]!;
  const perWorker = (bytes: number): number => mb((bytes - rssBeforePool) / WORKERS);
  const summary = {
    date: new Date().toISOString(),
    node: process.version,
    connections: CONNECTIONS,
    workers: WORKERS,
    cores: availableParallelism(),
    durations: { baseline: BASELINE_DURATION, reEvaluate: DURATION },
    poolStartMs: Math.round(poolStartMs),
    runs: [echoFigures, libraryFigures, poolFigures, http, libraryAfter, inlineFigures],
    ratios: {
      httpVsEcho: http.reqPerSec / echoFigures.reqPerSec,
      httpVsLibrary: http.reqPerSec / libraryRate,
      httpVsLibraryTimesWorkers: http.reqPerSec / (libraryRate * WORKERS),
      httpVsPool: http.reqPerSec / poolFigures.reqPerSec,
    },
    goals: {
      'HTTP ≥ 90% of library × workers': http.reqPerSec >= 0.9 * libraryRate * WORKERS,
      'p99 < 25 ms at 10 connections': http.p99 < 25,
      '0 errors': http.errors === 0,
      '≥ 2,000 req/s': http.reqPerSec >= 2000,
    },
    loadAverage: loadavg(),
    rss: {
      beforePoolMb: mb(rssBeforePool),
      afterWarmUpMb: mb(rssAfterWarmUp),
      endMb: mb(last.rss),
      perWorkerEndMb: perWorker(last.rss),
      perWorkerMaxMb: perWorker(Math.max(...rss.map((r) => r.rss))),
      growthOverLastHalfMb: mb(last.rss - half.rss),
      windowSeconds: Math.round((last.t - half.t) * 10) / 10,
    },
  };

  console.table(
    summary.runs.map((r) => ({
      run: r.name,
      'req/s': Math.round(r.reqPerSec * 10) / 10,
      'p50 ms': Math.round(r.p50 * 10) / 10,
      'p99 ms': Math.round(r.p99 * 10) / 10,
      requests: r.requests,
      errors: r.errors,
      'main thread CPU ms/req': r.mainCpuMs === undefined ? 'n/a' : Math.round(r.mainCpuMs * 1000) / 1000,
    }))
  );
  const pct = (ratio: number): string => `${(ratio * 100).toFixed(1)}%`;
  console.log(
    `$re-evaluate over HTTP with ${WORKERS} workers (${summary.cores} cores): ` +
      `${pct(summary.ratios.httpVsLibraryTimesWorkers)} of library × workers ` +
      `(${Math.round(libraryRate)} × ${WORKERS} = ${Math.round(libraryRate * WORKERS)} req/s; library = mean of its two runs), ` +
      `${pct(summary.ratios.httpVsLibrary)} of the library on one thread, ${pct(summary.ratios.httpVsPool)} of the pool without HTTP, ` +
      `${pct(summary.ratios.httpVsEcho)} of the bare echo`
  );
  console.log('goals:', summary.goals);
  console.log(
    `pool start (${WORKERS} workers load the content and prepare their validators, in parallel): ${summary.poolStartMs} ms`
  );
  console.log(
    `RSS before the pool (main thread's engine loaded): ${summary.rss.beforePoolMb} MB; after warm-up: ${summary.rss.afterWarmUpMb} MB; ` +
      `after the ${DURATION} s run: ${summary.rss.endMb} MB, i.e. ${summary.rss.perWorkerEndMb} MB per worker ` +
      `(max ${summary.rss.perWorkerMaxMb}); growth over the last ${summary.rss.windowSeconds} s: ${summary.rss.growthOverLastHalfMb} MB`
  );
  console.log(
    `load average (1, 5, 15 min) at the end: ${summary.loadAverage.map((l) => l.toFixed(2)).join(', ')}`
  );

  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results/http.json'), JSON.stringify(summary, null, 2) + '\n');
  fhir.server.close();
  echo.server.close();
  await pool.close();
}

const loadChild = process.env.BENCH_HTTP_LOAD;
if (loadChild === undefined) {
  void main();
} else {
  void generateLoad(JSON.parse(loadChild) as { url: string; seconds: number; inline: boolean });
}
