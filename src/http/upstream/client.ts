import type { Bundle, OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { Logger } from 'pino';
import { issue, outcome } from '../../core/outcomes';
import type { UpstreamConfig } from '../config';
import type { HttpError } from '../errors';
import { httpError, HttpError as HttpErrorClass } from '../errors';
import { isObject } from '../../core/json';
import type { TokenProvider } from './token-provider';
import { isTimeout, tokenProvider } from './token-provider';

/** Upstream 4xx statuses passed through to the caller with the upstream's OperationOutcome. */
const KEPT_STATUSES = new Set([400, 409, 412, 422]);

/** Statuses worth another attempt: the write is conditional, so repeating it is safe. */
const RETRIED_STATUSES = new Set([429, 500, 502, 503, 504]);

/** Injectable pieces, for tests. */
export interface UpstreamDeps {
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

/** The upstream FHIR server, as `$re-evaluate` and `/readyz` use it. */
export interface UpstreamClient {
  /**
   * POSTs one transaction Bundle, asking for the written resources back (`Prefer: return=representation`),
   * and returns the upstream's transaction-response. Every failure is an
   * HttpError with the status the caller gets (kept 4xx, 502 or 504).
   */
  transaction(bundle: Bundle, context: { readonly requestId: string; readonly log: Logger }): Promise<Bundle>;
  /** True when `GET [base]/metadata` answers 2xx in time. */
  reachable(): Promise<boolean>;
  /**
   * GETs one page of a search, `Type?params` relative to the base or a `next` link under it, as a
   * searchset Bundle; retried like the transaction. Any failure is a 502 (504 on timeout).
   */
  search(page: string, context: { readonly requestId: string; readonly log: Logger }): Promise<Bundle>;
}

/**
 * Builds the client: bearer auth (static or SMART Backend Services), a timeout per attempt, and bounded
 * retries with exponential back-off on network errors, timeouts, 429 and 5xx. Each attempt sends the
 * same single transaction (its writes are conditional, so a repeat after an unknown outcome is safe);
 * nothing is ever split into several requests.
 * Error mapping: upstream 400/409/412/422 → the same status with the upstream's OperationOutcome;
 * other 4xx, 5xx, unreachable or a malformed answer → 502; timeout → 504.
 * @param config - Upstream settings.
 * @param deps - Injectable fetch, sleep and clock.
 */
export function createUpstreamClient(config: UpstreamConfig, deps: UpstreamDeps = {}): UpstreamClient {
  const fetchImpl = deps.fetch ?? fetch;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const tokens: TokenProvider = tokenProvider(config, fetchImpl, deps.now);
  const base = config.url.replace(/\/+$/, '');
  const timeoutMs = config.timeoutMs ?? 10_000;
  const retries = config.retries ?? 2;
  const retryDelayMs = config.retryDelayMs ?? 200;

  async function headers(requestId: string): Promise<Record<string, string>> {
    const token = await tokens.token();
    return {
      'content-type': 'application/fhir+json',
      accept: 'application/fhir+json',
      'x-request-id': requestId,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    };
  }

  async function attempt(bundle: Bundle, body: string, requestId: string): Promise<Attempt> {
    let response: Response;
    let text: string;
    try {
      response = await fetchImpl(base, {
        method: 'POST',
        // Ask for the written resources in the transaction-response: servers may answer with only each
        // entry's status and location by default (HAPI does), and the caller shows what was written.
        // See: https://hl7.org/fhir/R4/http.html#ops (Prefer: return=representation)
        headers: { ...(await headers(requestId)), prefer: 'return=representation' },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await response.text();
    } catch (err) {
      if (err instanceof HttpErrorClass) {
        return { error: err, retry: false };
      }
      return isTimeout(err)
        ? { error: httpError(504, 'timeout', 'The upstream FHIR server did not answer in time'), retry: true }
        : { error: httpError(502, 'exception', 'The upstream FHIR server is unreachable'), retry: true };
    }
    if (response.ok) {
      return checkResponse(bundle, text);
    }
    if (response.status === 401 && tokens.invalidate()) {
      return { error: rejected(response.status, text), retry: true, renewToken: true };
    }
    if (KEPT_STATUSES.has(response.status)) {
      return { error: passedThrough(response.status, text), retry: false };
    }
    return { error: rejected(response.status, text), retry: RETRIED_STATUSES.has(response.status) };
  }

  return {
    async transaction(bundle, { requestId, log }) {
      const body = JSON.stringify(bundle);
      let renewed = false;
      for (let n = 0; ; n++) {
        const started = Date.now();
        const result = await attempt(bundle, body, requestId);
        const status = 'bundle' in result ? 200 : result.error.status;
        log.info(
          { upstream: 'transaction', attempt: n + 1, status, ms: Date.now() - started },
          'upstream call'
        );
        if ('bundle' in result) {
          return result.bundle;
        }
        // A 401 after a cached token earns one renewal that does not count as a retry.
        if (result.renewToken && !renewed) {
          renewed = true;
          n--;
          continue;
        }
        if (!result.retry || n >= retries) {
          throw result.error;
        }
        await sleep(retryDelayMs * 2 ** n);
      }
    },

    async search(page, { requestId, log }) {
      const url = page.startsWith(`${base}/`) ? page : `${base}/${page}`;
      if (/^[a-z]+:/i.test(page) && url !== page) {
        // A link elsewhere would carry our token to another server.
        throw httpError(502, 'exception', 'The upstream FHIR server sent a search link outside its base');
      }
      let renewed = false;
      for (let n = 0; ; n++) {
        let status: number;
        let text = '';
        try {
          const response = await fetchImpl(url, {
            headers: await headers(requestId),
            signal: AbortSignal.timeout(timeoutMs),
          });
          status = response.status;
          text = await response.text();
        } catch (err) {
          status = isTimeout(err) ? 504 : 502;
        }
        log.info({ upstream: 'search', attempt: n + 1, status }, 'upstream call');
        const json = status >= 200 && status < 300 ? parseJson(text) : undefined;
        if (isObject(json) && json.resourceType === 'Bundle') {
          return json as unknown as Bundle;
        }
        if (status === 401 && !renewed && tokens.invalidate()) {
          renewed = true;
          n--;
          continue;
        }
        if (!(RETRIED_STATUSES.has(status) || status === 504) || n >= retries) {
          throw status === 504
            ? httpError(504, 'timeout', 'The upstream FHIR server did not answer in time')
            : rejected(status, text);
        }
        await sleep(retryDelayMs * 2 ** n);
      }
    },

    async reachable() {
      try {
        const response = await fetchImpl(`${base}/metadata`, {
          headers: { accept: 'application/fhir+json', ...(await headers('readiness')) },
          signal: AbortSignal.timeout(Math.min(timeoutMs, 5000)),
        });
        await response.arrayBuffer();
        return response.ok;
      } catch {
        return false;
      }
    },
  };
}

type Attempt =
  | { readonly bundle: Bundle }
  | { readonly error: HttpError; readonly retry: boolean; readonly renewToken?: boolean };

/**
 * A 2xx must be a transaction-response with one successful entry per request entry; anything else
 * (not JSON, another resource, missing or failed entries) means the upstream did not process the
 * transaction as one unit, and is a 502.
 */
function checkResponse(sent: Bundle, text: string): Attempt {
  const malformed = (why: string): Attempt => ({
    error: httpError(
      502,
      'exception',
      `The upstream FHIR server returned an unusable transaction-response: ${why}`
    ),
    retry: false,
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return malformed('the body is not JSON');
  }
  if (!isObject(json) || json.resourceType !== 'Bundle' || json.type !== 'transaction-response') {
    return malformed('it is not a transaction-response Bundle');
  }
  const entries = Array.isArray(json.entry) ? json.entry : [];
  if (entries.length !== (sent.entry?.length ?? 0)) {
    return malformed(`${entries.length} entries for ${sent.entry?.length ?? 0} requests`);
  }
  const failed = entries.filter(
    (e) =>
      !isObject(e) ||
      !isObject(e.response) ||
      typeof e.response.status !== 'string' ||
      !/^2\d\d/.test(e.response.status)
  );
  if (failed.length > 0) {
    return malformed(
      `${failed.length} entries did not succeed, so the transaction was not applied as one unit`
    );
  }
  return { bundle: json as unknown as Bundle };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function upstreamOutcome(text: string): OperationOutcome | undefined {
  try {
    const json = JSON.parse(text) as unknown;
    return isObject(json) && json.resourceType === 'OperationOutcome' && Array.isArray(json.issue)
      ? (json as unknown as OperationOutcome)
      : undefined;
  } catch {
    return undefined;
  }
}

/** A kept 4xx: the upstream's own OperationOutcome, unchanged (or one that says what happened). */
function passedThrough(status: number, text: string): HttpError {
  return new HttpErrorClass(
    status,
    upstreamOutcome(text) ??
      outcome([
        issue('error', 'processing', `The upstream FHIR server rejected the transaction (HTTP ${status})`),
      ])
  );
}

/** Any other failure: 502, with the upstream's issues after ours when it sent an OperationOutcome. */
function rejected(status: number, text: string): HttpError {
  const theirs: OperationOutcomeIssue[] = upstreamOutcome(text)?.issue ?? [];
  return new HttpErrorClass(
    502,
    outcome([issue('error', 'exception', `The upstream FHIR server failed (HTTP ${status})`), ...theirs])
  );
}
