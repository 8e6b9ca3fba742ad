import type { Logger } from 'pino';
import type { AuthContext } from './auth/scopes';

/** What the middleware attaches to each request (declaration merging into Express's Request). */
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The request id: the caller's `X-Request-Id` when acceptable, else a new UUID. */
      requestId: string;
      /** A child logger that stamps every line with the request id. */
      log: Logger;
      /** `_pretty=true`: indent the JSON response. */
      pretty?: boolean;
      /** Counts (never PHI) a route adds to the request's `request completed` log line. */
      logFields?: Readonly<Record<string, number>>;
      /** The verified token's claims and scopes; absent when auth is off. */
      auth?: AuthContext;
    }
  }
}

export {};
