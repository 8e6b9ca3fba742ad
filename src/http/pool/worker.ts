import { parentPort, workerData } from 'node:worker_threads';
import { createNodeEngine } from '../../node/engine';
import type { Task } from './tasks';
import { runTask, toTaskError, transferablesOf } from './tasks';

/** What the pool sends a worker at start. */
export interface WorkerSetup {
  /**
   * Resource types prepared at start, before the first task (indexed definitions, the schema tier's
   * quick checks; ajv's validators wait for the first input of a type that fails the quick check).
   */
  readonly warmTypes: readonly string[];
}

/** A task as posted to a worker, and the answer. */
export interface TaskMessage {
  readonly id: number;
  readonly task: Task;
}
export type AnswerMessage =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: ReturnType<typeof toTaskError> };

/**
 * A pool worker (pool.ts starts it): loads the content and the R4 definitions once, prepares the
 * validation of the common types, says `ready`, then runs one task at a time as the pool sends them.
 */
function main(): void {
  const port = parentPort;
  if (!port) {
    throw new Error('pool/worker.ts runs as a worker thread');
  }
  const setup = workerData as WorkerSetup;
  const deps = createNodeEngine();
  deps.validator.warm([...setup.warmTypes]);
  port.on('message', ({ id, task }: TaskMessage) => {
    let answer: AnswerMessage;
    try {
      answer = { id, ok: true, value: runTask(deps, task) };
    } catch (err) {
      answer = { id, ok: false, error: toTaskError(err) };
    }
    // A serialised body moves to the main thread instead of being copied.
    port.postMessage(answer, answer.ok ? transferablesOf(answer.value) : []);
  });
  port.postMessage('ready');
}

main();
