import { availableParallelism } from 'node:os';
import { DEFAULT_SERVER_LIMITS, poolConfigFromEnv, serverLimitsFromEnv } from '../../src/http/config';

describe('worker pool and server limits from the environment', () => {
  test('defaults: one worker per core, a queue of 64, a 10 s budget; the documented server limits', () => {
    expect(poolConfigFromEnv({})).toEqual({
      workers: availableParallelism(),
      queueLimit: 64,
      budgetMs: 10_000,
      maxHeapMb: undefined,
    });
    expect(poolConfigFromEnv({}, 6).workers).toBe(6);
    expect(serverLimitsFromEnv({})).toEqual({
      maxInFlight: 256,
      headersTimeoutMs: 20_000,
      requestTimeoutMs: 60_000,
      keepAliveTimeoutMs: 5_000,
      connectionTimeoutMs: 120_000,
    });
    expect(serverLimitsFromEnv({})).toEqual(DEFAULT_SERVER_LIMITS);
  });

  test('reads every setting; WORKERS=0 runs in the main thread', () => {
    expect(
      poolConfigFromEnv({
        WORKERS: '0',
        POOL_QUEUE_LIMIT: '5',
        TASK_BUDGET_MS: '250',
        WORKER_MAX_HEAP_MB: '512',
      })
    ).toEqual({ workers: 0, queueLimit: 5, budgetMs: 250, maxHeapMb: 512 });
    expect(
      serverLimitsFromEnv({
        MAX_IN_FLIGHT: '10',
        HEADERS_TIMEOUT_MS: '1000',
        REQUEST_TIMEOUT_MS: '2000',
        KEEP_ALIVE_TIMEOUT_MS: '3000',
        CONNECTION_TIMEOUT_MS: '4000',
      })
    ).toEqual({
      maxInFlight: 10,
      headersTimeoutMs: 1000,
      requestTimeoutMs: 2000,
      keepAliveTimeoutMs: 3000,
      connectionTimeoutMs: 4000,
    });
  });

  test('an inconsistent setting fails at start, naming the variable', () => {
    expect(() => poolConfigFromEnv({ WORKERS: 'many' })).toThrow('WORKERS must be a non-negative integer');
    expect(() => poolConfigFromEnv({ POOL_QUEUE_LIMIT: '-1' })).toThrow('POOL_QUEUE_LIMIT');
    expect(() => poolConfigFromEnv({ TASK_BUDGET_MS: '0' })).toThrow('TASK_BUDGET_MS must be at least 1');
    // Below it Node 22 aborts the whole process while starting the worker, instead of failing the worker.
    expect(() => poolConfigFromEnv({ WORKER_MAX_HEAP_MB: '1' })).toThrow(
      'WORKER_MAX_HEAP_MB must be at least 16'
    );
    expect(() => serverLimitsFromEnv({ MAX_IN_FLIGHT: '0' })).toThrow('MAX_IN_FLIGHT must be at least 1');
    expect(() => serverLimitsFromEnv({ HEADERS_TIMEOUT_MS: '70000' })).toThrow(
      'HEADERS_TIMEOUT_MS must not exceed REQUEST_TIMEOUT_MS'
    );
  });
});
