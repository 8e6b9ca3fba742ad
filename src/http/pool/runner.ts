import type { ServerResponse } from 'node:http';
import type { EngineDeps } from '../../core/operations';
import type { ResultOf, Task } from './tasks';
import { runTask } from './tasks';

/**
 * Where the CPU-heavy operations run. The routes only await `run`; the server passes a WorkerPool
 * (pool.ts), and without one they run in this thread ({@link inProcessRunner}).
 */
export interface TaskRunner {
  /**
   * Runs a task; rejects with what the engine threw (ReFhirError), or an HttpError (503 when the pool is
   * full, over the budget or closing).
   * @param task - The task.
   * @param signal - Aborted when the client has gone: a task still queued is dropped.
   */
  run<T extends Task>(task: T, signal?: AbortSignal): Promise<ResultOf<T>>;
  /** False while no worker has loaded the content yet (`/readyz` answers 503 then). */
  isReady(): boolean;
  /** Stops the workers; resolves with the number of tasks abandoned (still running or queued). */
  close(): Promise<number>;
}

/**
 * Runs each task in this thread, on the app's own engine: for tests that inject a clock and ids, and
 * for an embedding that has its own threads. No budget applies (nothing could stop a running task).
 * @param deps - The engine.
 */
export function inProcessRunner(deps: EngineDeps): TaskRunner {
  return {
    run: <T extends Task>(task: T) => new Promise<ResultOf<T>>((resolve) => resolve(runTask(deps, task))),
    isReady: () => true,
    close: () => Promise.resolve(0),
  };
}

/**
 * A signal aborted when the connection closes before the response was sent (the client gave up), so
 * that a task still queued for it is dropped.
 * @param res - The response.
 */
export function whenClientGone(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) {
      controller.abort();
    }
  });
  return controller.signal;
}
