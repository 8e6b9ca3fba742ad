import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Server as NetServer } from 'node:net';
import type { Express } from 'express';
import type { Logger } from 'pino';
import type { ServerLimits } from './config';
import { DEFAULT_SERVER_LIMITS } from './config';

/** A listening server and how to stop it. */
export interface Running {
  readonly server: Server;
  /** The bound port (useful with port 0). */
  readonly port: number;
  /**
   * Graceful stop: no new connections; every response from now on (in flight, or asked for on a
   * connection that is already open) carries `Connection: close`, so clients stop reusing their
   * connections instead of having them reset; idle keep-alive connections end when their keep-alive
   * timeout expires or the client closes them; connections that have not sent a byte are closed after a
   * short grace; connections still open after `timeoutMs` are cut.
   * Resolves true when everything finished in time, false when connections had to be cut.
   */
  shutdown(): Promise<boolean>;
}

/** How long a connection that has sent nothing may still start its request once shutdown began. */
const FIRST_REQUEST_GRACE_MS = 250;

/**
 * Listens on a port and returns the graceful-shutdown handle.
 * @param app - The Express app.
 * @param options - Port (0 for any), host, shutdown timeout, logger, and the limits (in-flight requests,
 *   timeouts; each defaults as in serverLimitsFromEnv).
 */
export function listen(
  app: Express,
  options: {
    port: number;
    host?: string;
    shutdownTimeoutMs: number;
    logger: Logger;
    limits?: Partial<ServerLimits>;
  }
): Promise<Running> {
  return new Promise((resolve, reject) => {
    let closing = false;
    const limits = { ...DEFAULT_SERVER_LIMITS, ...options.limits };
    const unanswered = new Set<ServerResponse>();
    // Connections that have not had a request yet. Node's idle-connection tracking counts them as busy
    // (for its headers timeout), so closeIdleConnections leaves them, and they would hold shutdown.
    const unused = new Set<Socket>();
    // The headers and request timeouts are enforced on this interval (Node's default is 30 s).
    const checkMs = Math.max(100, Math.min(1000, limits.headersTimeoutMs));
    const server = createServer({ connectionsCheckingInterval: checkMs }, (req, res) => {
      // Past the bound, refused before any parsing; health probes still answer (they are cheap, and an
      // orchestrator must not kill a server for being busy).
      if (unanswered.size > limits.maxInFlight && !isHealthProbe(req)) {
        refuseBusy(res);
        return;
      }
      app(req, res);
    });
    server.headersTimeout = limits.headersTimeoutMs;
    server.requestTimeout = limits.requestTimeoutMs;
    server.keepAliveTimeout = limits.keepAliveTimeoutMs;
    server.setTimeout(limits.connectionTimeoutMs);
    server.listen(options.port, options.host ?? '', () => {
      const port = (server.address() as AddressInfo).port;
      let stopping: Promise<boolean> | undefined;
      resolve({
        server,
        port,
        shutdown: () => {
          stopping ??= new Promise<boolean>((done) => {
            closing = true;
            for (const res of unanswered) {
              closeAfter(res);
            }
            const timer = setTimeout(() => {
              options.logger.warn(
                { timeoutMs: options.shutdownTimeoutMs },
                'shutdown timeout: closing connections'
              );
              server.closeAllConnections();
              done(false);
            }, options.shutdownTimeoutMs);
            timer.unref();
            closeUnused(unused, Math.min(FIRST_REQUEST_GRACE_MS, options.shutdownTimeoutMs));
            // http.Server#close would also destroy every connection with no request parsed yet. Under
            // load many of those hold a request the busy event loop has not read, and destroying them
            // resets the client; so only the listening socket is closed here. The connections end after
            // their `Connection: close` response, or at their keep-alive timeout when idle.
            NetServer.prototype.close.call(server, () => {
              clearTimeout(timer);
              done(true);
            });
          });
          return stopping;
        },
      });
    });
    server.on('connection', (socket: Socket) => {
      unused.add(socket);
      socket.once('close', () => unused.delete(socket));
    });
    // Before Express, so that the header is set before a synchronous handler answers.
    server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
      unused.delete(req.socket);
      if (closing) {
        closeAfter(res);
      }
      unanswered.add(res);
      res.once('close', () => unanswered.delete(res));
    });
    server.on('error', reject);
  });
}

/**
 * After the grace, destroys the connections that have still not sent a byte. Not at once: under load a
 * connection may hold a request the busy event loop has not read yet; the grace and then a turn of the
 * loop (setImmediate runs after its poll phase, where sockets are read) let it be read and answered.
 * A connection that has sent part of a request is left to finish it (or to the shutdown timeout).
 * @param unused - The connections that have had no request.
 * @param graceMs - How long to wait.
 */
function closeUnused(unused: ReadonlySet<Socket>, graceMs: number): void {
  const sweep = (): void => {
    for (const socket of unused) {
      if (socket.bytesRead === 0) {
        socket.destroy();
      }
    }
  };
  setTimeout(() => setImmediate(sweep), graceMs).unref();
}

/** Asks Node to close the connection once this response is sent (and tells the client so). */
function closeAfter(res: ServerResponse): void {
  if (!res.headersSent) {
    res.setHeader('Connection', 'close');
  }
}

function isHealthProbe(req: IncomingMessage): boolean {
  const path = (req.url ?? '').split('?')[0];
  return req.method === 'GET' && (path === '/healthz' || path === '/readyz');
}

/** 503 with Retry-After and an OperationOutcome, written without the app (it is the app that is full). */
function refuseBusy(res: ServerResponse): void {
  const body = JSON.stringify({
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: 'error',
        code: 'throttled',
        details: { text: 'The server has too many requests in flight; retry later' },
      },
    ],
  });
  res.writeHead(503, {
    'Content-Type': 'application/fhir+json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Retry-After': '1',
    'Cache-Control': 'no-store',
  });
  res.end(body);
}
