import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { Logger } from 'pino';

/** A listening server and how to stop it. */
export interface Running {
  readonly server: Server;
  /** The bound port (useful with port 0). */
  readonly port: number;
  /**
   * Graceful stop: no new connections, idle keep-alive connections closed, in-flight requests allowed to
   * finish; connections still open after `timeoutMs` are cut. Resolves true when everything finished in
   * time, false when connections had to be cut.
   */
  shutdown(): Promise<boolean>;
}

/**
 * Listens on a port and returns the graceful-shutdown handle.
 * @param app - The Express app.
 * @param options - Port (0 for any), host, shutdown timeout, logger.
 */
export function listen(
  app: Express,
  options: { port: number; host?: string; shutdownTimeoutMs: number; logger: Logger }
): Promise<Running> {
  return new Promise((resolve, reject) => {
    const server = app.listen(options.port, options.host ?? '', (err?: Error) => {
      if (err) {
        reject(err);
        return;
      }
      const port = (server.address() as AddressInfo).port;
      let stopping: Promise<boolean> | undefined;
      resolve({
        server,
        port,
        shutdown: () => {
          stopping ??= new Promise<boolean>((done) => {
            const timer = setTimeout(() => {
              options.logger.warn(
                { timeoutMs: options.shutdownTimeoutMs },
                'shutdown timeout: closing connections'
              );
              clearInterval(idle);
              server.closeAllConnections();
              done(false);
            }, options.shutdownTimeoutMs);
            timer.unref();
            // Keep-alive connections with no request in flight would otherwise hold close() open until
            // their keep-alive timeout; those that finish their last request later are closed as they idle.
            const idle = setInterval(() => server.closeIdleConnections(), 50);
            idle.unref();
            server.close(() => {
              clearTimeout(timer);
              clearInterval(idle);
              done(true);
            });
            server.closeIdleConnections();
          });
          return stopping;
        },
      });
    });
    server.on('error', reject);
  });
}
