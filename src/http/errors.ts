import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { FailureKind, IssueCode } from '../core/outcomes';
import { issue, outcome, ReFhirError } from '../core/outcomes';
import { sendOutcome } from './send';

/**
 * An error with its HTTP status and the OperationOutcome to send. Thrown (or passed to `next`) by the
 * adapter; the error handler turns it into the response. `cause` (never sent) is what failed underneath,
 * for whoever logs it.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly outcome: OperationOutcome,
    readonly headers: Readonly<Record<string, string>> = {},
    options?: ErrorOptions
  ) {
    super(outcome.issue?.[0]?.details?.text ?? `HTTP ${status}`, options);
    this.name = 'HttpError';
  }
}

/**
 * An HttpError with one error issue.
 * @param status - HTTP status.
 * @param code - OperationOutcome issue type.
 * @param text - Human-readable text (no PHI, no internals).
 * @param headers - Extra response headers (e.g. `Allow`, `WWW-Authenticate`).
 * @param options - The cause, for the log.
 */
export function httpError(
  status: number,
  code: IssueCode,
  text: string,
  headers?: Record<string, string>,
  options?: ErrorOptions
): HttpError {
  return new HttpError(status, outcome([issue('error', code, text)]), headers, options);
}

/**
 * The HTTP status of an engine failure, per R4 http.html: structural → 400 (not valid FHIR),
 * conformance → 422 (breaks its Questionnaire or profile), not-found → 404, internal → 500.
 * @param kind - The failure kind of a ReFhirError or terminology result.
 */
export function statusOfKind(kind: FailureKind): number {
  switch (kind) {
    case 'structural':
      return 400;
    case 'conformance':
      return 422;
    case 'not-found':
      return 404;
    case 'internal':
      return 500;
  }
}

/**
 * Throws the HttpError of a failed engine result (terminology and the like).
 * @param kind - The failure kind.
 * @param issues - Its issues.
 */
export function failure(kind: FailureKind, issues: readonly OperationOutcomeIssue[]): HttpError {
  return kind === 'internal' ? internalError() : new HttpError(statusOfKind(kind), outcome(issues));
}

/** The only body a 500 carries: no message, stack or internals, just where to look (the request id). */
export function internalError(): HttpError {
  return httpError(
    500,
    'exception',
    'Internal server error; the server log has the details under this request id'
  );
}

/** Body-parser errors carry `type`; these are the ones a client causes. */
interface ParserError {
  readonly type?: string;
  readonly status?: number;
  readonly statusCode?: number;
  /** Set by http-errors on 4xx errors: safe to report to the client. */
  readonly expose?: boolean;
}

/** The 400's text for a body that is not JSON, whichever thread parsed it (json-text.ts too). */
export const BODY_NOT_JSON = 'The body is not valid JSON';

function fromParser(err: ParserError): HttpError | undefined {
  switch (err.type) {
    case 'entity.parse.failed':
      return httpError(400, 'invalid', BODY_NOT_JSON);
    case 'entity.too.large':
      return httpError(413, 'too-long', 'The body is larger than this server accepts');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return httpError(415, 'not-supported', 'Unsupported body encoding or charset; send UTF-8 JSON');
    case 'request.aborted':
      return httpError(400, 'incomplete', 'The request was aborted before its body was complete');
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return httpError(400, 'invalid', 'The body could not be read');
    case 'encoding.invalid':
      return httpError(400, 'invalid', 'The body is not valid UTF-8');
    default:
      return undefined;
  }
}

/**
 * Other client errors of body-parser come without a `type`: a gzip, deflate or br body that does not
 * decompress is the decompressor's own error, marked 400 and exposable by body-parser.
 */
function fromUntypedParser(err: ParserError): HttpError | undefined {
  const status = err.status ?? err.statusCode;
  return err.expose === true && status === 400
    ? httpError(400, 'invalid', 'The body could not be read (check its Content-Encoding)')
    : undefined;
}

/** A path that does not percent-decode: the client's mistake, whichever layer finds it. */
function malformedUrl(): HttpError {
  return httpError(400, 'invalid', 'The request URL is not validly percent-encoded');
}

/**
 * Maps anything thrown to an HttpError: HttpErrors as they are, engine failures by kind, body-parser
 * errors by type, the router's failure to decode a path parameter as 400; anything else is our bug
 * (500, generic text).
 * @param err - What was thrown.
 */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) {
    return err;
  }
  // The router marks its decodeURIComponent failure 400; any other URIError is ours.
  if (err instanceof URIError && (err as ParserError).status === 400) {
    return malformedUrl();
  }
  if (err instanceof ReFhirError) {
    return err.kind === 'internal' ? internalError() : new HttpError(statusOfKind(err.kind), err.outcome);
  }
  if (typeof err === 'object' && err !== null) {
    const mapped = 'type' in err ? fromParser(err as ParserError) : fromUntypedParser(err as ParserError);
    if (mapped) {
      return mapped;
    }
  }
  return internalError();
}

/**
 * The last middleware (arity 4, so Express treats it as the error handler): every error becomes an
 * OperationOutcome with its status. Client errors are logged at `info` without their text (it may quote
 * the input); server errors are logged at `error` with their type and stack frames, never their message
 * (it may quote the input too), and nothing of them is sent.
 */
export const errorHandler: ErrorRequestHandler = (err, req, res, next) => {
  if (res.headersSent) {
    next(err);
    return;
  }
  const mapped = toHttpError(err);
  if (mapped.status >= 500 && !(err instanceof HttpError && err.status !== 500)) {
    req.log?.error({ err: describe(err) }, 'request failed');
  } else {
    req.log?.info(
      { status: mapped.status, issue: mapped.outcome.issue?.map((i) => i.code) },
      'request rejected'
    );
  }
  for (const [name, value] of Object.entries(mapped.headers)) {
    res.setHeader(name, value);
  }
  sendOutcome(req, res, mapped.status, mapped.outcome);
};

/**
 * What of an unexpected error goes to the log: its type, stack frames and (for engine errors) issue codes
 * and locations. Never its message: an error may quote the input, which can be patient data.
 */
function describe(err: unknown): Record<string, unknown> {
  if (err instanceof ReFhirError) {
    return {
      type: err.name,
      kind: err.kind,
      issues: err.outcome.issue?.map((i) => ({ code: i.code, expression: i.expression })),
      stack: framesOf(err),
    };
  }
  if (err instanceof Error) {
    return { type: err.name, stack: framesOf(err) };
  }
  return { type: typeof err };
}

/**
 * The stack without its header, which V8 writes as `Name: message` (the message may span lines).
 * @param err - The error.
 */
export function framesOf(err: Error): string {
  const stack = err.stack ?? '';
  const header = Error.prototype.toString.call(err);
  if (stack.startsWith(header)) {
    return stack.slice(header.length).replace(/^\n/, '');
  }
  // Name or message changed after the stack was formatted: keep the lines from the first frame on.
  const lines = stack.split('\n');
  const first = lines.findIndex((l) => /^\s+at /.test(l));
  return first < 0 ? '' : lines.slice(first).join('\n');
}

/**
 * 400 for a path that does not percent-decode (`/fhir/%`, a cut UTF-8 sequence). The router would fail
 * with a URIError on a path parameter, or match nothing and answer 404; either way it is the URL.
 */
export const rejectMalformedUrl: RequestHandler = (req, _res, next) => {
  if (req.path.includes('%')) {
    try {
      decodeURIComponent(req.path);
    } catch {
      throw malformedUrl();
    }
  }
  next();
};

/** JSON 404 for anything no route matched. */
export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(httpError(404, 'not-found', `Nothing is served at ${req.method} ${req.path}`));
};

/**
 * 405 with `Allow` for a path that exists but not with this method.
 * @param allowed - The methods the path supports.
 */
export function methodNotAllowed(allowed: readonly string[]): RequestHandler {
  const allow = [...new Set([...allowed, ...(allowed.includes('GET') ? ['HEAD'] : [])])].join(', ');
  return (req, _res, next) => {
    next(
      httpError(405, 'not-supported', `${req.method} is not allowed here; use ${allow}`, { Allow: allow })
    );
  };
}
