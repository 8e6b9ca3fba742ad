/**
 * Timing helpers for the benchmarks: rounds of a fixed duration, per-call latencies, medians and
 * percentiles. Wall-clock time is what a caller waits; CPU time (this process, all threads) is shown
 * beside it because the machines these run on are shared and noisy.
 */

/** One measured operation. */
export interface Measurement {
  /** Calls timed, over every round. */
  readonly calls: number;
  /** Calls per second of wall-clock time: the median of the rounds. */
  readonly perSecond: number;
  /** Microseconds per call: the median of the rounds. */
  readonly microseconds: number;
  /** CPU microseconds (user + system, whole process) per call: the median of the rounds. */
  readonly cpuMicroseconds: number;
  /** Latency percentiles of single calls, in milliseconds (only when calls were timed one by one). */
  readonly p50Ms?: number;
  readonly p99Ms?: number;
}

/** How long and how often to measure. */
export interface MeasureOptions {
  /** Rounds (default 5); the median round is reported. */
  readonly rounds?: number;
  /** Seconds per round (default 1). */
  readonly seconds?: number;
  /** Untimed calls first (default 20). */
  readonly warmup?: number;
  /** Time each call on its own, for latency percentiles (default false: batches of 10). */
  readonly latencies?: boolean;
}

/**
 * Measures a synchronous operation.
 * @param fn - The operation.
 * @param options - Rounds, duration, warm-up, latencies.
 */
export function measure(fn: () => unknown, options: MeasureOptions = {}): Measurement {
  const rounds = options.rounds ?? 5;
  const budget = BigInt(Math.round((options.seconds ?? 1) * 1e9));
  for (let i = 0; i < (options.warmup ?? 20); i++) {
    fn();
  }
  const latencies: number[] = [];
  const perRound: { calls: number; ns: number; cpuUs: number }[] = [];
  for (let r = 0; r < rounds; r++) {
    let calls = 0;
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    const stop = start + budget;
    let now = start;
    while (now < stop) {
      if (options.latencies) {
        const before = now;
        fn();
        now = process.hrtime.bigint();
        latencies.push(Number(now - before) / 1e6);
        calls++;
      } else {
        for (let i = 0; i < 10; i++) {
          fn();
        }
        calls += 10;
        now = process.hrtime.bigint();
      }
    }
    const used = process.cpuUsage(cpu);
    perRound.push({ calls, ns: Number(now - start), cpuUs: used.user + used.system });
  }
  return summarise(perRound, latencies);
}

/**
 * Measures an asynchronous operation, awaiting each call before the next.
 * @param fn - The operation.
 * @param options - Rounds, duration, warm-up (calls are always timed one by one).
 */
export async function measureAsync(
  fn: () => Promise<unknown>,
  options: MeasureOptions = {}
): Promise<Measurement> {
  const rounds = options.rounds ?? 5;
  const budget = BigInt(Math.round((options.seconds ?? 1) * 1e9));
  for (let i = 0; i < (options.warmup ?? 5); i++) {
    await fn();
  }
  const latencies: number[] = [];
  const perRound: { calls: number; ns: number; cpuUs: number }[] = [];
  for (let r = 0; r < rounds; r++) {
    let calls = 0;
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    const stop = start + budget;
    let now = start;
    while (now < stop) {
      const before = now;
      await fn();
      now = process.hrtime.bigint();
      latencies.push(Number(now - before) / 1e6);
      calls++;
    }
    const used = process.cpuUsage(cpu);
    perRound.push({ calls, ns: Number(now - start), cpuUs: used.user + used.system });
  }
  return summarise(perRound, latencies);
}

function summarise(
  perRound: { calls: number; ns: number; cpuUs: number }[],
  latencies: number[]
): Measurement {
  const us = median(perRound.map((r) => r.ns / 1e3 / r.calls));
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    calls: perRound.reduce((sum, r) => sum + r.calls, 0),
    perSecond: 1e6 / us,
    microseconds: us,
    cpuMicroseconds: median(perRound.map((r) => r.cpuUs / r.calls)),
    ...(sorted.length > 0 ? { p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99) } : {}),
  };
}

/** The median of some numbers (the lower middle one for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? NaN;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? NaN;
}
