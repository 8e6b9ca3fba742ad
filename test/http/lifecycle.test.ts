import type { ChildProcessByStdio } from 'node:child_process';
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Bundle, QuestionnaireResponse } from '@medplum/fhirtypes';
import express from 'express';
import pino from 'pino';
import { listen } from '../../src/http/lifecycle';
import { responseWithContained } from '../helpers/adversarial';
import { scenarios } from '../helpers/scenarios';

const quiet = pino({ level: 'silent' });
const ROOT = join(__dirname, '../..');
const RESPONSE = scenarios().find((s) => s.name === 'example-turp-tamsulosin')!
  .response as QuestionnaireResponse;

describe('graceful shutdown', () => {
  test('an in-flight request finishes; new connections are refused; shutdown reports a clean stop', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let arrived!: () => void;
    const inFlight = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const app = express();
    app.get('/slow', async (_req, res) => {
      arrived();
      await released;
      res.json({ done: true });
    });
    const running = await listen(app, { port: 0, host: '127.0.0.1', shutdownTimeoutMs: 5000, logger: quiet });
    const url = `http://127.0.0.1:${running.port}/slow`;

    const pending = fetch(url).then(async (r) => ({ status: r.status, body: await r.json() }));
    await inFlight;
    const stopped = running.shutdown();
    await expect(fetch(url)).rejects.toThrow();
    release();
    expect(await pending).toEqual({ status: 200, body: { done: true } });
    expect(await stopped).toBe(true);
  });

  test('regression: a keep-alive client that sends again during shutdown is answered with Connection: close, not reset', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const app = express();
    app.get('/fast', (_req, res) => {
      res.json({ fast: true });
    });
    app.get('/slow', async (_req, res) => {
      await released;
      res.json({ slow: true });
    });
    const running = await listen(app, { port: 0, host: '127.0.0.1', shutdownTimeoutMs: 5000, logger: quiet });
    const idleAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const busyAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const get = (path: string, agent: http.Agent): Promise<{ status?: number; connection?: string }> =>
        new Promise((resolve, reject) => {
          http
            .get({ host: '127.0.0.1', port: running.port, path, agent }, (res) => {
              res.resume();
              res.on('end', () => resolve({ status: res.statusCode, connection: res.headers.connection }));
            })
            .on('error', reject);
        });
      // One connection left idle in its client's pool, one with a request in flight.
      expect(await get('/fast', idleAgent)).toEqual({ status: 200, connection: 'keep-alive' });
      const slow = get('/slow', busyAgent);
      await new Promise((resolve) => setTimeout(resolve, 50));

      const stopped = running.shutdown();
      // Before: the idle connection was destroyed at once, and this request on it was reset.
      expect(await get('/fast', idleAgent)).toEqual({ status: 200, connection: 'close' });
      release();
      expect(await slow).toEqual({ status: 200, connection: 'close' });
      expect(await stopped).toBe(true);
    } finally {
      idleAgent.destroy();
      busyAgent.destroy();
    }
  });

  test('regression: a connection that never sends a request does not hold shutdown until the timeout', async () => {
    const app = express();
    // Long, so that a loaded machine cannot reach it by chance: the regression waits it out, then reports false.
    const timeoutMs = 60_000;
    const running = await listen(app, {
      port: 0,
      host: '127.0.0.1',
      shutdownTimeoutMs: timeoutMs,
      logger: quiet,
    });
    const socket = net.connect(running.port, '127.0.0.1');
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('connect', resolve));
    // Let the server accept it before shutting down.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    // Before: it stayed open until the timeout cut it, and shutdown reported false.
    expect(await running.shutdown()).toBe(true);
    expect(Date.now() - started).toBeLessThan(timeoutMs / 2);
    await closed;
  });

  test('a connection that starts its request during the grace, or has begun one, is still answered', async () => {
    const app = express();
    app.get('/ok', (_req, res) => {
      res.json({ ok: true });
    });
    const running = await listen(app, { port: 0, host: '127.0.0.1', shutdownTimeoutMs: 5000, logger: quiet });
    const open = async (): Promise<{ socket: net.Socket; answer: Promise<string> }> => {
      const socket = net.connect(running.port, '127.0.0.1');
      let text = '';
      socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      const answer = new Promise<string>((resolve) => socket.on('close', () => resolve(text)));
      await new Promise((resolve) => socket.once('connect', resolve));
      return { socket, answer };
    };
    const late = await open();
    const partial = await open();
    partial.socket.write('GET /ok HTTP/1.1\r\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const stopped = running.shutdown();
    late.socket.write('GET /ok HTTP/1.1\r\nHost: x\r\n\r\n');
    // The rest of the begun request comes after the grace.
    await new Promise((resolve) => setTimeout(resolve, 500));
    partial.socket.write('Host: x\r\n\r\n');
    for (const { answer } of [late, partial]) {
      expect(await answer).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*Connection: close\r\n[^]*\{"ok":true\}$/);
    }
    expect(await stopped).toBe(true);
  });

  test('a request still running at the timeout is cut and shutdown reports it', async () => {
    const app = express();
    let arrived!: () => void;
    const inFlight = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    app.get('/never', () => {
      arrived();
    });
    const running = await listen(app, { port: 0, host: '127.0.0.1', shutdownTimeoutMs: 50, logger: quiet });
    const pending = fetch(`http://127.0.0.1:${running.port}/never`).catch((err: unknown) => err);
    await inFlight;
    expect(await running.shutdown()).toBe(false);
    // The client sees the connection cut (fetch's TypeError comes from another realm than jest's Error).
    expect(((await pending) as { message?: string }).message).toBe('fetch failed');
  });
});

/**
 * The start script in a child process, with its JSON log lines as they arrive. It runs in one plain
 * Node process with tsx as a loader, as `node dist/server/server.cjs` runs: the tsx command line would
 * put a supervisor in front that kills a child which does not acknowledge a signal within 30 ms, which
 * a busy server does not.
 */
interface Script {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  readonly lines: Record<string, unknown>[];
  /** The `listening` line. */
  readonly info: Record<string, unknown>;
  readonly exited: Promise<number | null>;
}

async function startScript(env: Record<string, string> = {}): Promise<Script> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/http/server.ts')], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const lines: Record<string, unknown>[] = [];
  let partial = '';
  const info = await new Promise<Record<string, unknown>>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      // A chunk may end inside a line.
      const text = partial + chunk;
      const complete = text.split('\n');
      partial = complete.pop()!;
      for (const line of complete.filter(Boolean)) {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        lines.push(parsed);
        if (parsed.msg === 'listening') {
          resolve(parsed);
        }
      }
    });
    void exited.then((code) => reject(new Error(`exited early with ${code}`)));
  });
  return { child, lines, info, exited };
}

/** What happened to one request of the load: a status, or the client's error code. */
interface Outcome {
  readonly sentBeforeSignal: boolean;
  readonly status?: number;
  readonly error?: string;
}

describe('the start script', () => {
  test('listens on PORT and exits 0 on SIGTERM', async () => {
    const { child, lines, info, exited } = await startScript();
    expect(info).toMatchObject({ fhirBase: '/fhir', auth: 'OFF (local demo only)', upstream: 'none' });
    const res = await fetch(`http://127.0.0.1:${String(info.port)}/fhir/metadata`);
    expect(res.status).toBe(200);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['shutting down', 'stopped']));
  }, 60_000);

  test('SIGTERM under load: every request in flight completes, none is reset, and the exit is clean', async () => {
    const { child, lines, info, exited } = await startScript();
    const body = JSON.stringify(RESPONSE);
    // Keep-alive clients, each always with one $re-evaluate outstanding, as a busy integration would be.
    const clients = 8;
    const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
    const submit = (): Promise<number | undefined> =>
      new Promise((resolve, reject) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port: info.port as number,
            path: '/fhir/QuestionnaireResponse/$re-evaluate',
            method: 'POST',
            agent,
            headers: { 'content-type': 'application/fhir+json', 'content-length': Buffer.byteLength(body) },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              // A complete answer: the Bundle parses.
              expect((JSON.parse(Buffer.concat(chunks).toString()) as Bundle).type).toBe('transaction');
              resolve(res.statusCode);
            });
            res.on('error', reject);
          }
        );
        req.on('error', reject);
        req.end(body);
      });
    const outcomes: Outcome[] = [];
    let signalled = false;
    let completedBeforeSignal = 0;
    const client = async (): Promise<void> => {
      for (;;) {
        const sentBeforeSignal = !signalled;
        try {
          outcomes.push({ sentBeforeSignal, status: await submit() });
          completedBeforeSignal += signalled ? 0 : 1;
        } catch (err) {
          outcomes.push({ sentBeforeSignal, error: (err as NodeJS.ErrnoException).code ?? String(err) });
          return; // The server is gone (or something broke): this client stops.
        }
      }
    };
    try {
      const load = Promise.all(Array.from({ length: clients }, client));
      while (completedBeforeSignal < 2 * clients) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      signalled = true;
      child.kill('SIGTERM');
      await load;
      expect(await exited).toBe(0);
    } finally {
      agent.destroy();
      child.kill('SIGKILL');
    }

    // In flight at the signal: each client had one request outstanding; all of them completed.
    const inFlight = outcomes.filter((o) => o.sentBeforeSignal);
    expect(inFlight.length).toBeGreaterThanOrEqual(3 * clients);
    expect(inFlight.filter((o) => o.status !== 200)).toEqual([]);
    // After the signal: answered (200) until the server closed the connection, then refused; never reset.
    const errors = outcomes.filter((o) => o.error !== undefined).map((o) => o.error);
    expect(errors).toEqual(Array.from({ length: clients }, () => 'ECONNREFUSED'));
    expect(outcomes.filter((o) => o.status !== undefined && o.status !== 200)).toEqual([]);
    expect(lines.find((l) => l.msg === 'stopped')).toMatchObject({ clean: true });
  }, 90_000);
});

describe('the start script with its worker pool', () => {
  test('SIGTERM during a task that outlives the shutdown timeout: the worker is terminated, the process exits, and the log says the stop was forced', async () => {
    const { child, lines, info, exited } = await startScript({
      WORKERS: '1',
      TASK_BUDGET_MS: '600000',
      SHUTDOWN_TIMEOUT_MS: '1', // the task must outlast it however fast the engine becomes
      LOG_LEVEL: 'debug',
    });
    try {
      // A body whose validation runs far longer than the shutdown timeout (minutes before issue 14).
      const pending = fetch(`http://127.0.0.1:${String(info.port)}/fhir/QuestionnaireResponse/$validate`, {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json' },
        body: JSON.stringify(responseWithContained(1_000_000)),
      }).catch((err: unknown) => err);
      while (!lines.some((l) => l.msg === 'task started')) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      child.kill('SIGTERM');
      // The main thread is free, so the signal is handled at once and the exit follows the timeout; before
      // the pool, the process ignored SIGTERM until the evaluation ended.
      expect(await exited).toBe(1);
      expect(((await pending) as { message?: string }).message).toBe('fetch failed');
      expect(lines.find((l) => l.msg === 'stopped')).toMatchObject({
        clean: false,
        connectionsCut: true,
        tasksAbandoned: 1,
      });
      expect(lines.map((l) => l.msg)).toContain('shutdown timeout: closing connections');
    } finally {
      child.kill('SIGKILL');
    }
  }, 90_000);
});

describe('limits', () => {
  test('past the in-flight bound, 503 with Retry-After and an OperationOutcome; health probes still answer', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let arrivals = 0;
    const app = express();
    app.get('/healthz', (_req, res) => {
      res.json({ status: 'ok' });
    });
    app.get('/slow', async (_req, res) => {
      arrivals++;
      await released;
      res.json({ done: true });
    });
    const running = await listen(app, {
      port: 0,
      host: '127.0.0.1',
      shutdownTimeoutMs: 5000,
      logger: quiet,
      limits: { maxInFlight: 2 },
    });
    const origin = `http://127.0.0.1:${running.port}`;
    try {
      const held = [fetch(`${origin}/slow`), fetch(`${origin}/slow`)];
      while (arrivals < 2) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const refused = await fetch(`${origin}/slow`);
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(refused.headers.get('content-type')).toBe('application/fhir+json; charset=utf-8');
      expect(await refused.json()).toMatchObject({
        resourceType: 'OperationOutcome',
        issue: [{ severity: 'error', code: 'throttled' }],
      });
      expect((await fetch(`${origin}/healthz`)).status).toBe(200);
      release();
      expect((await Promise.all(held)).map((r) => r.status)).toEqual([200, 200]);
      // Below the bound again.
      expect((await fetch(`${origin}/slow`)).status).toBe(200);
    } finally {
      release();
      running.server.closeAllConnections();
      await running.shutdown();
    }
  });

  test('the timeouts are set on the server, and a client that never finishes its headers is closed', async () => {
    const running = await listen(express(), {
      port: 0,
      host: '127.0.0.1',
      shutdownTimeoutMs: 5000,
      logger: quiet,
      limits: {
        headersTimeoutMs: 300,
        requestTimeoutMs: 600,
        keepAliveTimeoutMs: 700,
        connectionTimeoutMs: 900,
      },
    });
    try {
      const { server } = running;
      expect([server.headersTimeout, server.requestTimeout, server.keepAliveTimeout, server.timeout]).toEqual(
        [300, 600, 700, 900]
      );
      // Slowloris: the request line and one header, then nothing. Node answers 408 and closes.
      const socket = net.connect(running.port, '127.0.0.1');
      let received = '';
      socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
      socket.write('GET /x HTTP/1.1\r\nHost: localhost\r\n');
      await new Promise((resolve) => socket.once('close', resolve));
      expect(received).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      running.server.closeAllConnections();
      await running.shutdown();
    }
  }, 30_000);
});
