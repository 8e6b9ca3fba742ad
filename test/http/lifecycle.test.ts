import { spawn } from 'node:child_process';
import { join } from 'node:path';
import express from 'express';
import pino from 'pino';
import { listen } from '../../src/http/lifecycle';

const quiet = pino({ level: 'silent' });

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

describe('the start script', () => {
  test('listens on PORT and exits 0 on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [join(__dirname, '../../node_modules/tsx/dist/cli.mjs'), join(__dirname, '../../src/http/server.ts')],
      {
        env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      }
    );
    const lines: Record<string, unknown>[] = [];
    const listening = new Promise<Record<string, unknown>>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        for (const line of chunk.split('\n').filter(Boolean)) {
          const parsed = JSON.parse(line) as Record<string, unknown>;
          lines.push(parsed);
          if (parsed.msg === 'listening') {
            resolve(parsed);
          }
        }
      });
      child.on('exit', (code) => reject(new Error(`exited early with ${code}`)));
    });
    const info = await listening;
    expect(info).toMatchObject({ fhirBase: '/fhir', auth: 'OFF (local demo only)', upstream: 'none' });
    const res = await fetch(`http://127.0.0.1:${String(info.port)}/fhir/metadata`);
    expect(res.status).toBe(200);
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['shutting down', 'stopped']));
  }, 60_000);
});
