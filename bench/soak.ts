/**
 * Soak test of `POST /fhir/QuestionnaireResponse/$re-evaluate` (the 4 shipped examples in turn):
 * 1. the server starts as its own process (`node --import tsx src/http/server.ts`, logging at info as in
 *    production, its log drained here, its worker pool as configured by WORKERS), so that its RSS is its
 *    own and the load generator does not take its CPU;
 * 2. warm-up, then the peak: autocannon, 10 connections, as fast as the server answers;
 * 3. the soak: 80% of that peak (autocannon `overallRate`), for SOAK_DURATION seconds, reporting per
 *    30 s window the requests, errors (non-2xx, timeouts, connection errors; goal 0), p50/p99/max latency
 *    and the server's RSS, sampled every second (goal: flat; the mean of the last window no more than 10%
 *    above that of the first, in which the server settles at the soak rate).
 *
 * Run: npm run bench:soak. Settings (seconds): SOAK_DURATION (default 300), SOAK_PEAK_DURATION (default
 * 30), SOAK_WARMUP (default 10), SOAK_WINDOW (default 30); SOAK_RATE_SHARE (default 0.8). Results also go
 * to bench/results/soak.json. Linux only (RSS from /proc).
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';

const ROOT = join(__dirname, '..');
const SOAK = Number(process.env.SOAK_DURATION ?? 300);
const PEAK = Number(process.env.SOAK_PEAK_DURATION ?? 30);
const WARMUP = Number(process.env.SOAK_WARMUP ?? 10);
const WINDOW = Number(process.env.SOAK_WINDOW ?? 30);
const SHARE = Number(process.env.SOAK_RATE_SHARE ?? 0.8);
const CONNECTIONS = 10;
const EXAMPLES = ['turp-tamsulosin', 'diabetic-confirmed', 'anejaculation', 'distress-pe'].map((name) =>
  readFileSync(join(ROOT, `profiles/examples/QuestionnaireResponse-re-example-${name}.json`), 'utf8')
);

/** The server process, its port, and how many log lines it wrote (drained, not kept). */
async function startServer(): Promise<{
  child: ChildProcess;
  port: number;
  workers: number;
  lines: () => number;
}> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/http/server.ts')], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let count = 0;
  const { port, workers } = await new Promise<{ port: number; workers: number }>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      count++;
      if (count < 10 && line.includes('"msg":"listening"')) {
        resolve(JSON.parse(line) as { port: number; workers: number });
      }
    });
    child.on('exit', (code) => reject(new Error(`the server exited with ${code}`)));
  });
  return { child, port, workers, lines: () => count };
}

/** Resident set size of a process, in bytes (Linux: /proc/<pid>/status). */
function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  if (kb === undefined) {
    throw new Error(`no VmRSS for process ${pid}`);
  }
  return Number(kb) * 1024;
}

const mb = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;
const round = (n: number): number => Math.round(n * 10) / 10;

function quantile(sorted: readonly number[], q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

interface Window {
  readonly from: number;
  readonly to: number;
  readonly requests: number;
  readonly errors: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly rssMb: number;
  readonly rssMaxMb: number;
}

async function main(): Promise<void> {
  const server = await startServer();
  const url = `http://127.0.0.1:${server.port}/fhir/QuestionnaireResponse/$re-evaluate`;
  const requests = EXAMPLES.map((body) => ({
    method: 'POST' as const,
    headers: { 'content-type': 'application/fhir+json' },
    body,
  }));
  const pid = server.child.pid!;
  try {
    console.log(`server pid ${pid}; warm-up ${WARMUP} s, peak ${PEAK} s, soak ${SOAK} s at ${SHARE * 100}%`);
    await autocannon({ url, connections: CONNECTIONS, duration: WARMUP, requests });
    const rssAfterWarmUp = rssOf(pid);
    const peak = await autocannon({ url, connections: CONNECTIONS, duration: PEAK, requests });
    const peakRate = peak.requests.average;
    const rate = Math.max(1, Math.round(peakRate * SHARE * 10) / 10);
    console.log(
      `peak: ${round(peakRate)} req/s (p99 ${round(peak.latency.p99)} ms, ${peak.errors + peak.non2xx} errors); soak at ${rate} req/s`
    );

    // Per window: latencies of the answers, errors, and the server's RSS each second.
    const started = Date.now();
    const windowOf = (): number => Math.floor((Date.now() - started) / 1000 / WINDOW);
    const latencies = new Map<number, number[]>();
    const errors = new Map<number, number>();
    const rss = new Map<number, number[]>();
    // Push in place: copying the window's array on every response made the soak O(n²) in its requests.
    const add = <T>(map: Map<number, T[]>, value: T): void => {
      const w = windowOf();
      const list = map.get(w);
      if (list) {
        list.push(value);
      } else {
        map.set(w, [value]);
      }
    };
    const error = (): void => {
      errors.set(windowOf(), (errors.get(windowOf()) ?? 0) + 1);
    };
    const sampler = setInterval(() => add(rss, rssOf(pid)), 1000);
    const soak = autocannon({ url, connections: CONNECTIONS, duration: SOAK, overallRate: rate, requests });
    soak.on('response', (_client, statusCode, _bytes, responseTime) => {
      add(latencies, responseTime);
      if (statusCode < 200 || statusCode >= 300) {
        error();
      }
    });
    soak.on('reqError', error);
    const result = await soak;
    clearInterval(sampler);

    const windows: Window[] = [];
    for (let w = 0; w * WINDOW < SOAK; w++) {
      const sorted = [...(latencies.get(w) ?? [])].sort((a, b) => a - b);
      const memory = rss.get(w) ?? [];
      windows.push({
        from: w * WINDOW,
        to: Math.min(SOAK, (w + 1) * WINDOW),
        requests: sorted.length,
        errors: errors.get(w) ?? 0,
        p50: round(quantile(sorted, 0.5)),
        p99: round(quantile(sorted, 0.99)),
        max: round(sorted[sorted.length - 1] ?? NaN),
        rssMb: mb(memory.reduce((a, b) => a + b, 0) / memory.length),
        rssMaxMb: mb(Math.max(...memory)),
      });
    }
    // Growth after warm-up: the mean RSS of the last window against that of the first, in which the
    // server settles at the new rate (single samples swing with every garbage collection).
    const settled = windows[0]!.rssMb;
    const final = windows[windows.length - 1]!.rssMb;
    const laterMax = Math.max(...windows.map((w) => w.rssMaxMb));
    const growth = (final - settled) / settled;
    const totalErrors = windows.reduce((n, w) => n + w.errors, 0) + result.timeouts;

    console.table(
      windows.map((w) => ({
        window: `${w.from}-${w.to} s`,
        requests: w.requests,
        'req/s': round(w.requests / (w.to - w.from)),
        errors: w.errors,
        'p50 ms': w.p50,
        'p99 ms': w.p99,
        'max ms': w.max,
        'RSS MB': w.rssMb,
        'RSS max MB': w.rssMaxMb,
      }))
    );
    console.log(
      `soak: ${result.requests.total} requests at ${round(result.requests.average)} req/s (target ${rate}); ` +
        `errors ${totalErrors} (non-2xx ${result.non2xx}, connection errors ${result.errors}, timeouts ${result.timeouts}); ` +
        `p99 over the run ${round(result.latency.p99)} ms (corrected for coordinated omission)`
    );
    // Workers are threads of the one process: RSS / workers is an upper bound per worker (the main
    // thread, with its own copy of the content, is counted in it).
    const perWorker = round(final / Math.max(1, server.workers));
    console.log(
      `RSS: ${mb(rssAfterWarmUp)} MB after warm-up; mean ${settled} MB in the first window, ${final} MB in the last ` +
        `(growth ${(growth * 100).toFixed(1)}%, goal ≤ 10%; ${server.workers} workers: at most ${perWorker} MB per worker); highest sample ${laterMax} MB; server log lines: ${server.lines()}; ` +
        `load average ${loadavg()
          .map((l) => l.toFixed(2))
          .join(', ')}`
    );

    mkdirSync(join(__dirname, 'results'), { recursive: true });
    writeFileSync(
      join(__dirname, 'results/soak.json'),
      JSON.stringify(
        {
          date: new Date().toISOString(),
          node: process.version,
          connections: CONNECTIONS,
          durations: { warmUp: WARMUP, peak: PEAK, soak: SOAK, window: WINDOW },
          peak: { reqPerSec: peakRate, p99: peak.latency.p99, errors: peak.errors + peak.non2xx },
          soak: {
            targetReqPerSec: rate,
            reqPerSec: result.requests.average,
            requests: result.requests.total,
            errors: totalErrors,
            p99: result.latency.p99,
          },
          windows,
          rss: {
            workers: server.workers,
            lastWindowMeanPerWorkerAtMostMb: perWorker,
            afterWarmUpMb: mb(rssAfterWarmUp),
            firstWindowMeanMb: settled,
            lastWindowMeanMb: final,
            maxMb: laterMax,
            growth,
          },
        },
        null,
        2
      ) + '\n'
    );
    process.exitCode = totalErrors === 0 && growth <= 0.1 ? 0 : 1;
  } finally {
    server.child.kill('SIGTERM');
  }
}

void main();
