import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { EventLoopUtilization } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { httpError } from '../errors';
import type { TaskRunner } from './runner';
import type { ResultOf, Task } from './tasks';
import { fromTaskError, taskTransferables } from './tasks';
import type { AnswerMessage, WorkerSetup } from './worker';

/** Settings of a {@link WorkerPool}. */
export interface PoolOptions {
  /** Number of worker threads (at least 1). */
  readonly size: number;
  /** Tasks that may wait for a free worker; past it, 503 with Retry-After. */
  readonly queueLimit: number;
  /**
   * Time a worker may spend busy on one task, in ms; past it the worker is terminated and replaced, and
   * the task fails with 503. It is the worker's event-loop busy time, not the time queued.
   */
  readonly budgetMs: number;
  /** Heap limit of each worker (old generation, MB); absent: Node's default. */
  readonly maxHeapMb?: number;
  /** Resource types whose quick schema checks, definitions and element trees each worker prepares at start. */
  readonly warmTypes: readonly string[];
  readonly logger: Logger;
}

interface Pending {
  readonly task: Task;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: Error) => void;
  readonly signal?: AbortSignal;
}

interface Running extends Pending {
  readonly id: number;
  readonly started: EventLoopUtilization;
  timer?: NodeJS.Timeout;
}

interface Slot {
  readonly worker: Worker;
  ready: boolean;
  current?: Running;
}

/** Seconds a client is told to wait when the queue is full. */
const RETRY_AFTER_SECONDS = 1;
/** Wait before replacing a worker that died before it was ready (a broken build must not spin). */
const RESTART_DELAY_MS = 1000;

/**
 * A fixed pool of worker threads that run the CPU-heavy operations (tasks.ts), so that the main thread
 * stays free for health checks, metadata and I/O. Each worker loads the content once at start and runs
 * one task at a time. Tasks wait in a bounded FIFO queue; when it is full, `run` fails at once with 503
 * and `Retry-After`. A task that keeps its worker busy past the budget is abandoned: the worker is
 * terminated (the only way to stop synchronous JavaScript) and a new one started.
 */
export class WorkerPool implements TaskRunner {
  private readonly slots = new Set<Slot>();
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closing = false;

  constructor(private readonly options: PoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1) {
      throw new Error('A worker pool needs at least one worker');
    }
    for (let i = 0; i < options.size; i++) {
      this.start();
    }
  }

  /** Resolves when every worker has loaded the content (the bench and tests wait for it; requests need not). */
  async ready(): Promise<void> {
    while (!this.closing && [...this.slots].some((s) => !s.ready)) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  isReady(): boolean {
    return [...this.slots].some((s) => s.ready);
  }

  /** Workers, busy workers and queued tasks, for logs and tests. */
  stats(): { size: number; busy: number; queued: number } {
    const slots = [...this.slots];
    return { size: slots.length, busy: slots.filter((s) => s.current).length, queued: this.queue.length };
  }

  run<T extends Task>(task: T, signal?: AbortSignal): Promise<ResultOf<T>> {
    if (this.closing) {
      return Promise.reject(closingError());
    }
    if (signal?.aborted) {
      return Promise.reject(clientGone());
    }
    return new Promise<ResultOf<T>>((resolve, reject) => {
      const pending: Pending = { task, resolve: resolve as (value: unknown) => void, reject, signal };
      const idle = this.idle();
      if (idle) {
        this.dispatch(idle, pending);
        return;
      }
      if (this.queue.length >= this.options.queueLimit) {
        reject(
          httpError(
            503,
            'throttled',
            'The server is busy (every worker is busy and the queue is full); retry later',
            { 'Retry-After': String(RETRY_AFTER_SECONDS) }
          )
        );
        return;
      }
      this.queue.push(pending);
      signal?.addEventListener('abort', () => this.drop(pending), { once: true });
    });
  }

  /** Terminates the workers; resolves with the number of tasks abandoned (running or queued). */
  async close(): Promise<number> {
    this.closing = true;
    const queued = this.queue.splice(0);
    for (const pending of queued) {
      pending.reject(closingError());
    }
    const slots = [...this.slots];
    this.slots.clear();
    let running = 0;
    await Promise.all(
      slots.map(async (slot) => {
        if (slot.current) {
          running++;
          clearTimeout(slot.current.timer);
          slot.current.reject(closingError());
          slot.current = undefined;
        }
        await slot.worker.terminate();
      })
    );
    return queued.length + running;
  }

  private idle(): Slot | undefined {
    for (const slot of this.slots) {
      if (slot.ready && !slot.current) {
        return slot;
      }
    }
    return undefined;
  }

  private drop(pending: Pending): void {
    const at = this.queue.indexOf(pending);
    if (at >= 0) {
      this.queue.splice(at, 1);
      pending.reject(clientGone());
    }
  }

  private start(): void {
    const setup: WorkerSetup = { warmTypes: this.options.warmTypes };
    const entry = workerEntry();
    const worker = new Worker(entry.source, {
      eval: entry.eval,
      workerData: setup,
      resourceLimits: this.options.maxHeapMb ? { maxOldGenerationSizeMb: this.options.maxHeapMb } : undefined,
      // The worker writes nothing itself; anything it prints goes to this process's streams.
      stdout: false,
      stderr: false,
    });
    const slot: Slot = { worker, ready: false };
    this.slots.add(slot);
    worker.on('message', (message: AnswerMessage | 'ready') => {
      if (message === 'ready') {
        slot.ready = true;
        this.next(slot);
        return;
      }
      const current = slot.current;
      if (!current || current.id !== message.id) {
        return;
      }
      clearTimeout(current.timer);
      slot.current = undefined;
      if (message.ok) {
        current.resolve(message.value);
      } else {
        current.reject(fromTaskError(message.error));
      }
      this.next(slot);
    });
    worker.on('error', (err) => {
      this.options.logger.error({ err: { type: err.name, stack: err.stack } }, 'pool worker failed');
    });
    worker.on('exit', (code) => {
      if (!this.slots.delete(slot) || this.closing) {
        return; // terminated on purpose (budget, close)
      }
      this.options.logger.error({ code, ready: slot.ready }, 'pool worker exited; starting another');
      if (slot.current) {
        clearTimeout(slot.current.timer);
        slot.current.reject(new Error(`The pool worker exited with code ${code} during a task`));
      }
      if (slot.ready) {
        this.start();
      } else {
        setTimeout(() => !this.closing && this.start(), RESTART_DELAY_MS).unref();
      }
    });
  }

  private next(slot: Slot): void {
    const pending = this.queue.shift();
    if (pending) {
      this.dispatch(slot, pending);
    }
  }

  private dispatch(slot: Slot, pending: Pending): void {
    const running: Running = {
      ...pending,
      id: this.nextId++,
      started: slot.worker.performance.eventLoopUtilization(),
    };
    slot.current = running;
    slot.worker.postMessage({ id: running.id, task: pending.task }, taskTransferables(pending.task));
    this.options.logger.debug({ op: pending.task.op, queued: this.queue.length }, 'task started');
    this.watch(slot, running, this.options.budgetMs);
  }

  /**
   * Checks the task's busy time when the budget could have been spent; while the worker has been busy
   * for less (it was starved of CPU, or is idle between messages), checks again after the remainder.
   */
  private watch(slot: Slot, running: Running, afterMs: number): void {
    running.timer = setTimeout(() => {
      if (slot.current !== running) {
        return;
      }
      const busyMs = slot.worker.performance.eventLoopUtilization(running.started).active;
      if (busyMs < this.options.budgetMs) {
        this.watch(slot, running, Math.max(1, this.options.budgetMs - busyMs));
        return;
      }
      this.abandon(slot, running);
    }, afterMs);
  }

  private abandon(slot: Slot, running: Running): void {
    this.options.logger.warn(
      { op: running.task.op, budgetMs: this.options.budgetMs },
      'task over its budget: worker terminated and replaced'
    );
    slot.current = undefined;
    this.slots.delete(slot);
    void slot.worker.terminate();
    running.reject(
      httpError(
        503,
        'too-costly',
        `The operation was stopped after ${this.options.budgetMs} ms of processing, this server's budget ` +
          'per operation; the input is too costly to process'
      )
    );
    if (!this.closing) {
      this.start();
    }
  }
}

function clientGone(): Error {
  return httpError(499, 'incomplete', 'The client closed the request');
}

function closingError(): Error {
  return httpError(503, 'transient', 'The server is shutting down; retry on another instance', {
    'Retry-After': String(RETRY_AFTER_SECONDS),
  });
}

/**
 * The worker's code. Built (`npm run build`): `pool-worker.cjs` beside the server bundle. From the
 * TypeScript sources (tests, `tsx`): worker.ts, compiled on load by tsx's require hook.
 */
function workerEntry(): { source: string; eval: boolean } {
  const built = join(__dirname, 'pool-worker.cjs');
  if (existsSync(built)) {
    return { source: built, eval: false };
  }
  const source = join(__dirname, 'worker.ts');
  if (!existsSync(source)) {
    throw new Error(`The pool worker is missing: neither ${built} nor ${source} exists`);
  }
  return {
    source: `require('tsx/cjs/api').register(); require(${JSON.stringify(source)});`,
    eval: true,
  };
}
