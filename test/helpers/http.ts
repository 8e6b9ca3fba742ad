import type { OperationOutcome, Resource } from '@medplum/fhirtypes';
import pino from 'pino';
import type { AppTestHooks } from '../../src/http/app';
import { createApp } from '../../src/http/app';
import type { AppConfig } from '../../src/http/config';
import type { Running } from '../../src/http/lifecycle';
import { listen } from '../../src/http/lifecycle';
import { testEngine } from './engine';

/** A server under test: the real app, listening on an ephemeral port. */
export interface TestServer {
  /** Origin, e.g. `http://127.0.0.1:41234`. */
  readonly origin: string;
  /** FHIR base URL. */
  readonly base: string;
  /** Every log line the app wrote (parsed JSON). */
  readonly logs: Record<string, unknown>[];
  readonly running: Running;
  close(): Promise<void>;
}

/**
 * Starts `createApp(config)` on 127.0.0.1 with an ephemeral port. The engine defaults to the shared test
 * engine (frozen clock, counter ids), the upstream timeout to 60 s; logs are captured in memory at `info`
 * unless the config says otherwise.
 * @param config - App configuration.
 * @param hooks - Test seams (upstream fetch/sleep).
 */
export async function startServer(config: AppConfig = {}, hooks: AppTestHooks = {}): Promise<TestServer> {
  const logs: Record<string, unknown>[] = [];
  const logger = pino(
    { level: config.logLevel ?? 'info' },
    { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) }
  );
  const engine = config.engine ?? testEngine();
  // A generous upstream timeout unless a test sets one: on a loaded machine an upstream transaction
  // can take seconds, and the production default (10 s) then turns into a 504 and a retry.
  const upstream = config.upstream && { timeoutMs: 60_000, ...config.upstream };
  const app = createApp({ engine, logger, ...config, ...(upstream ? { upstream } : {}) }, hooks);
  const running = await listen(app, { port: 0, host: '127.0.0.1', shutdownTimeoutMs: 2000, logger });
  const origin = `http://127.0.0.1:${running.port}`;
  return {
    origin,
    base: `${origin}${config.fhirBase ?? '/fhir'}`,
    logs,
    running,
    close: async () => {
      running.server.closeAllConnections();
      await running.shutdown();
    },
  };
}

/** A response with its parsed JSON body. */
export interface JsonResponse<T = Resource> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
  readonly text: string;
}

/**
 * fetch, then parse the body as JSON (undefined when empty).
 * @param url - URL.
 * @param init - fetch options.
 */
export async function request<T = Resource>(url: string, init: RequestInit = {}): Promise<JsonResponse<T>> {
  let res: globalThis.Response;
  try {
    res = await fetch(url, init);
  } catch (err) {
    // On a loaded machine a test may reuse a kept-alive connection just as the server closes it for
    // idleness (its keep-alive timeout): the request never reached the server, so it is sent once more.
    if (!closedWhileIdle(err)) {
      throw err;
    }
    res = await fetch(url, init);
  }
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as T, text };
}

/**
 * POST a FHIR JSON body.
 * @param url - URL.
 * @param body - The resource (serialised here), or a string or bytes sent as they are.
 * @param headers - Extra headers.
 */
export function post<T = Resource>(
  url: string,
  body: unknown,
  headers: Record<string, string> = {}
): Promise<JsonResponse<T>> {
  return request<T>(url, {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json', ...headers },
    body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
  });
}

/**
 * Asserts the shape every error shares: the status, FHIR JSON, and an OperationOutcome whose first
 * issue is an error with the given code; returns the issue texts for further checks. (An outcome that
 * puts warnings before its errors: see {@link expectFirstError}.)
 * @param res - The response.
 * @param status - Expected HTTP status.
 * @param code - Expected issue code of the first issue.
 */
export function expectOutcome(res: JsonResponse<unknown>, status: number, code: string): string[] {
  const outcome = res.body as OperationOutcome;
  expect({
    status: res.status,
    type: res.headers.get('content-type'),
    resourceType: outcome?.resourceType,
  }).toEqual({
    status,
    type: 'application/fhir+json; charset=utf-8',
    resourceType: 'OperationOutcome',
  });
  expect(outcome.issue?.[0]).toMatchObject({ severity: 'error', code });
  return (outcome.issue ?? []).map((i) => i.details?.text ?? '');
}

/**
 * As {@link expectOutcome}, for outcomes that may list warnings first: the first error-level issue has
 * the given code.
 * @param res - The response.
 * @param status - Expected HTTP status.
 * @param code - Expected issue code of the first error.
 */
export function expectFirstError(res: JsonResponse<unknown>, status: number, code: string): void {
  const outcome = res.body as OperationOutcome;
  expect({
    status: res.status,
    type: res.headers.get('content-type'),
    resourceType: outcome?.resourceType,
    firstError: outcome?.issue?.find((i) => i.severity === 'error' || i.severity === 'fatal')?.code,
  }).toEqual({
    status,
    type: 'application/fhir+json; charset=utf-8',
    resourceType: 'OperationOutcome',
    firstError: code,
  });
}

/**
 * fetch's errors when the server closed a kept-alive connection for idleness as the request went out
 * ("other side closed", or a reset when the close crossed the request). A server that died would refuse
 * the repeat as well.
 */
function closedWhileIdle(err: unknown): boolean {
  const cause = (err as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  return (
    (cause?.code === 'UND_ERR_SOCKET' && cause.message === 'other side closed') ||
    cause?.code === 'ECONNRESET'
  );
}
