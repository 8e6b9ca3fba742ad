import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import pino from 'pino';

/**
 * The default logger: pino, JSON lines on stdout. What is logged at `info` never includes PHI: no
 * bodies, no answer values, no names, no identifiers, no query strings (they can carry codes and
 * filters); only method, route, status, durations, sizes and issue codes.
 * @param level - pino level (default `info`).
 * @param destination - Where the lines go, written synchronously as pino's default does: a file
 *   descriptor or a path (default 1, stdout; the HTTP bench gives /dev/null).
 */
export function createLogger(level = 'info', destination: number | string = 1): Logger {
  return pino({ level, base: { service: 're-fhir' } }, pino.destination({ dest: destination, sync: true }));
}

/** Request ids we echo must be safe in logs and headers: short, no spaces or control characters. */
const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Assigns the request id (the caller's `X-Request-Id` when it is safe, else a UUID), echoes it in the
 * response, gives the request a child logger, and logs one line per completed request, with the
 * counts a route put in `req.logFields` (e.g. `$re-evaluate`'s entries and warnings).
 * @param logger - The root logger.
 */
export function requestLogging(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const given = req.get('x-request-id');
    req.requestId = given !== undefined && SAFE_ID.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', req.requestId);
    req.log = logger.child({ reqId: req.requestId });
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      req.log.info(
        {
          method: req.method,
          // The route pattern, not the path: a path can carry an id the caller chose.
          route: req.route ? `${req.baseUrl}${String(req.route.path)}` : undefined,
          status: res.statusCode,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
          bytes: Number(res.getHeader('content-length') ?? 0),
          ...req.logFields,
        },
        'request completed'
      );
    });
    next();
  };
}
