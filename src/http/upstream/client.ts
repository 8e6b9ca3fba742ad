import type {
  Bundle,
  BundleEntry,
  OperationOutcome,
  OperationOutcomeIssue,
  Resource,
} from '@medplum/fhirtypes';
import type { Logger } from 'pino';
import { resolveWritten, splitTransaction } from '../../core/bundle/chunks';
import { isObject } from '../../core/json';
import { issue, outcome } from '../../core/outcomes';
import type { UpstreamConfig } from '../config';
import type { HttpError } from '../errors';
import { httpError, HttpError as HttpErrorClass } from '../errors';
import type { TokenProvider } from './token-provider';
import { isTimeout, tokenProvider } from './token-provider';
import { writtenAs } from '../../core/bundle/chunks';
import { entryFailures, permissionHint, retryWaitMs } from './transaction-response';

/** Upstream 4xx statuses passed through to the caller with the upstream's OperationOutcome. */
const KEPT_STATUSES = new Set([400, 409, 412, 422]);

/** Statuses worth another attempt: the write is conditional, so repeating it is safe. */
const RETRIED_STATUSES = new Set([429, 500, 502, 503, 504]);

/** Entry statuses inside a transaction-response worth re-sending the Bundle for (quota, overload). */
const RETRIED_ENTRY_STATUSES = new Set([429, 503]);

/**
 * The most entries Medplum accepts in a transaction with conditional writes when the project runs
 * transactions (its `maxSerializableTransactionEntries`); a larger one is refused with this message.
 */
export const MEDPLUM_MAX_TRANSACTION_ENTRIES = 8;
/** Rounds of delete-and-rewrite after which remaining duplicates are only logged. */
const MAX_REPAIR_ROUNDS = 5;
const STRICT_ISOLATION_CAP = /requires strict isolation but has too many entries/i;

/** How long an upstream readiness probe is reused, in milliseconds. */
export const PROBE_CACHE_MS = 5000;

/** Injectable pieces, for tests. */
export interface UpstreamDeps {
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

/** What a call is made for: the request id sent upstream and the request's logger. */
export interface CallContext {
  readonly requestId: string;
  readonly log: Logger;
  /**
   * The caller's own bearer token, sent instead of the server's credentials (never renewed): for reads
   * made on the caller's behalf (`$populate`), so the upstream shows only what the caller may see, and,
   * when the upstream is configured with `forwardUserToken`, for `$re-evaluate`'s reads and writes too
   * (a SMART app launched from the EHR: the EHR sees the user and the user's scopes; auth/forward.ts).
   */
  readonly bearer?: string;
}

/** The upstream FHIR server, as `$re-evaluate` and `/readyz` use it. */
export interface UpstreamClient {
  /**
   * Writes one transaction Bundle of conditional writes, all or reported exactly: in chunks when the
   * upstream caps a transaction's size, re-sending a chunk whose entries failed with 429/503 within the
   * retry budget. Returns one transaction-response entry per Bundle entry, in the Bundle's order. Any
   * failure is an HttpError; when part of the Bundle was written, its OperationOutcome lists every entry
   * written and not written and says that a resubmission completes the write.
   */
  transaction(bundle: Bundle, context: CallContext): Promise<Bundle>;
  /** `GET [base]/{type}/{id}`: the stored resource, or undefined when the upstream has none (404/410). */
  read<T extends Resource>(type: T['resourceType'], id: string, context: CallContext): Promise<T | undefined>;
  /** True when `GET [base]/metadata` answers 2xx in time; one probe is reused for {@link PROBE_CACHE_MS}. */
  reachable(): Promise<boolean>;
  /**
   * GETs one page of a search, `Type?params` relative to the base or a `next` link under it, as a
   * searchset Bundle; retried like the transaction. Any failure is a 502 (504 on timeout).
   */
  search(page: string, context: CallContext): Promise<Bundle>;
}

/** One HTTP exchange that got an answer, or why it did not. */
type Exchange =
  | { readonly status: number; readonly text: string; readonly headers: Headers }
  | { readonly error: HttpError; readonly retry: boolean };

/**
 * Builds the client: bearer auth (static or SMART Backend Services), a timeout per attempt, bounded
 * retries with exponential back-off (longer when the upstream says so with `Retry-After` or
 * `RateLimit`) inside a total time budget, and no redirects: a 3xx is an error, so neither the Bundle
 * nor the token is ever re-sent elsewhere.
 * Error mapping: upstream 400/409/412/422 → the same status with the upstream's OperationOutcome;
 * 403 → 502 naming the permission the upstream wants; other 4xx, 5xx, unreachable or a malformed
 * answer → 502; timeout → 504; entries still throttled when the budget is spent → 503 with Retry-After.
 * @param config - Upstream settings.
 * @param deps - Injectable fetch, sleep and clock.
 */
export function createUpstreamClient(config: UpstreamConfig, deps: UpstreamDeps = {}): UpstreamClient {
  const fetchImpl = deps.fetch ?? fetch;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = deps.now ?? Date.now;
  const tokens: TokenProvider = tokenProvider(config, fetchImpl, deps.now);
  const base = config.url.replace(/\/+$/, '');
  const timeoutMs = config.timeoutMs ?? 10_000;
  const retries = config.retries ?? 2;
  const retryDelayMs = config.retryDelayMs ?? 200;
  const budgetMs = config.retryBudgetMs ?? 30_000;
  let maxEntries = config.maxTransactionEntries;
  const repairDuplicates = config.repairDuplicates ?? true;
  let probe: { readonly at: number; readonly result: Promise<boolean> } | undefined;

  async function headers(requestId: string, bearer?: string): Promise<Record<string, string>> {
    // A caller's token when given; when forwarding, never ours (the readiness probe reads the public
    // `metadata` without one).
    const token = bearer ?? (config.forwardUserToken ? undefined : await tokens.token());
    return {
      accept: 'application/fhir+json',
      'x-request-id': requestId,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    };
  }

  /** One request; a 401 with a cached token renews it once. Redirects are answers, not followed. */
  async function exchange(
    method: 'GET' | 'POST',
    url: string,
    requestId: string,
    body?: string,
    bearer?: string
  ): Promise<Exchange> {
    for (let renewed = false; ; renewed = true) {
      let response: Response;
      let text: string;
      try {
        response = await fetchImpl(url, {
          method,
          headers: {
            ...(await headers(requestId, bearer)),
            // Ask for the written resources in the transaction-response: servers may answer with only
            // each entry's status and location by default (HAPI does), and the caller shows them.
            // See: https://hl7.org/fhir/R4/http.html#ops (Prefer: return=representation)
            ...(body === undefined
              ? {}
              : { 'content-type': 'application/fhir+json', prefer: 'return=representation' }),
          },
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        });
        text = await response.text();
      } catch (err) {
        if (err instanceof HttpErrorClass) {
          return { error: err, retry: false };
        }
        // A write that got no answer may still have been applied; a read wrote nothing.
        const maybe = body === undefined ? '' : '; the write may have happened (resubmitting is safe)';
        return isTimeout(err)
          ? {
              error: httpError(504, 'timeout', `The upstream FHIR server did not answer in time${maybe}`),
              retry: true,
            }
          : {
              error: httpError(
                502,
                'exception',
                `The upstream FHIR server is unreachable or dropped the connection${maybe}`
              ),
              retry: true,
            };
      }
      if (response.status === 401 && !renewed && bearer === undefined && tokens.invalidate()) {
        continue;
      }
      if (response.status >= 300 && response.status < 400) {
        return {
          error: httpError(
            502,
            'exception',
            `The upstream FHIR server answered with a redirect (HTTP ${response.status}); redirects are not followed, so nothing was sent there. Configure FHIR_UPSTREAM_URL as the server's final address`
          ),
          retry: false,
        };
      }
      return { status: response.status, text, headers: response.headers };
    }
  }

  /**
   * Runs `attempt` until it settles, re-running it when it asks to, after the back-off or the
   * upstream's requested wait, within the retries and the time budget.
   */
  async function withRetries<T>(
    log: Logger,
    call: string,
    attempt: () => Promise<{ done: T } | { again: HttpError; waitMs?: number } | { fail: HttpError }>
  ): Promise<T> {
    const started = now();
    for (let n = 0; ; n++) {
      const t0 = now();
      const result = await attempt();
      const status = 'done' in result ? 200 : 'again' in result ? result.again.status : result.fail.status;
      log.info({ upstream: call, attempt: n + 1, status, ms: now() - t0 }, 'upstream call');
      if ('done' in result) {
        return result.done;
      }
      if ('fail' in result) {
        throw result.fail;
      }
      const wait = Math.max(retryDelayMs * 2 ** n, result.waitMs ?? 0);
      if (n >= retries || now() - started + wait > budgetMs) {
        throw result.again;
      }
      await sleep(wait);
    }
  }

  /** Maps an exchange that is not a usable 2xx to a settled or repeated attempt. */
  function failed(ex: Exchange, what: string): { again: HttpError; waitMs?: number } | { fail: HttpError } {
    if ('error' in ex) {
      return ex.retry ? { again: ex.error } : { fail: ex.error };
    }
    if (KEPT_STATUSES.has(ex.status)) {
      return { fail: passedThrough(ex.status, ex.text) };
    }
    const error = rejected(ex.status, ex.text, what);
    return RETRIED_STATUSES.has(ex.status)
      ? { again: error, waitMs: retryWaitMs(ex.headers, now()) }
      : { fail: error };
  }

  /**
   * Sends one chunk until every entry succeeded, or until what failed cannot be helped by re-sending.
   * Returns the last transaction-response's entries (aligned with the chunk's) and whether that is all.
   */
  async function writeChunk(chunk: Bundle, context: CallContext): Promise<ChunkResult> {
    const body = JSON.stringify(chunk);
    let last: ChunkResult | undefined;
    try {
      return await withRetries(context.log, 'transaction', async () => {
        const ex = await exchange('POST', base, context.requestId, body, context.bearer);
        if ('error' in ex || ex.status < 200 || ex.status >= 300) {
          return failed(ex, 'transaction');
        }
        const answer = transactionResponse(chunk, ex.text);
        if ('error' in answer) {
          return { fail: answer.error };
        }
        const failures = entryFailures(answer.entries);
        const waitMs = retryWaitMs(ex.headers, now());
        last = { entries: answer.entries, complete: failures.length === 0, waitMs };
        if (failures.length === 0) {
          return { done: last };
        }
        const error = httpError(502, 'exception', `${failures.length} entries were not written`);
        return failures.every((f) => RETRIED_ENTRY_STATUSES.has(f.status))
          ? { again: error, waitMs }
          : { fail: error };
      });
    } catch (error) {
      // An answer with entries says exactly what was written: the caller reports it.
      if (last) {
        return last;
      }
      throw error;
    }
  }

  const client: UpstreamClient = {
    async transaction(bundle, context) {
      // Write, then make sure each key names one resource: another process writing the same response
      // at the same moment can make a check-then-insert upstream create one twice. Duplicates are
      // deleted (all but the smallest id, the same choice in every process) and the Bundle re-sent, so
      // that every reference points at the survivors.
      for (let round = 1; ; round++) {
        let response: Bundle | undefined;
        let failure: unknown;
        try {
          response = await writeOnce(bundle, context);
        } catch (error) {
          // Duplicates left by a concurrent writer make the next conditional update fail (several
          // matches, or a retried insert that no longer fits): if a search finds them, repair and write
          // again; any other failure stands.
          if (!repairDuplicates || round === MAX_REPAIR_ROUNDS || !(error instanceof HttpErrorClass)) {
            throw error;
          }
          failure = error;
        }
        if (response && !repairDuplicates) {
          return response;
        }
        const extra = await duplicates(bundle, context);
        if (!response && extra.length === 0 && !lostRace(failure)) {
          throw failure;
        }
        if (response && (extra.length === 0 || round === MAX_REPAIR_ROUNDS)) {
          if (extra.length > 0) {
            context.log.warn({ upstream: 'repair', duplicates: extra.length }, 'duplicates remain');
          }
          return response;
        }
        if (extra.length > 0) {
          context.log.info({ upstream: 'repair', duplicates: extra.length }, 'deleting duplicates');
          await batch(
            extra.map((where) => ({ request: { method: 'DELETE', url: where } })),
            context
          );
        }
      }
    },

    async search(page, context) {
      const url = page.startsWith(`${base}/`) ? page : `${base}/${page}`;
      if (/^[a-z]+:/i.test(page) && url !== page) {
        // A link elsewhere would carry our token to another server.
        throw httpError(502, 'exception', 'The upstream FHIR server sent a search link outside its base');
      }
      return withRetries<Bundle>(context.log, 'search', async () => {
        const ex = await exchange('GET', url, context.requestId, undefined, context.bearer);
        if ('error' in ex || !(ex.status >= 200 && ex.status < 300)) {
          return failed(ex, 'search');
        }
        const json = parse(ex.text);
        return isObject(json) && json.resourceType === 'Bundle'
          ? { done: json as unknown as Bundle }
          : {
              fail: httpError(
                502,
                'exception',
                'The upstream FHIR server answered a search with something else'
              ),
            };
      });
    },

    async read<T extends Resource>(type: T['resourceType'], id: string, context: CallContext) {
      const url = `${base}/${type}/${encodeURIComponent(id)}`;
      return withRetries<T | undefined>(context.log, 'read', async () => {
        const ex = await exchange('GET', url, context.requestId, undefined, context.bearer);
        if (!('error' in ex) && (ex.status === 404 || ex.status === 410)) {
          return { done: undefined };
        }
        if ('error' in ex || !(ex.status >= 200 && ex.status < 300)) {
          return failed(ex, `read of ${type}`);
        }
        const json = parse(ex.text);
        if (!isObject(json) || json.resourceType !== type || json.id !== id) {
          return {
            fail: httpError(
              502,
              'exception',
              `The upstream FHIR server answered the read of a ${type} with something else`
            ),
          };
        }
        return { done: json as unknown as T };
      });
    },

    reachable() {
      return reachable();
    },
  };

  /** One batch (searches, deletes): its entries' answers, in order. */
  async function batch(requests: BundleEntry[], context: CallContext): Promise<BundleEntry[]> {
    const body = JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry: requests });
    return withRetries(context.log, 'batch', async () => {
      const ex = await exchange('POST', base, context.requestId, body, context.bearer);
      if ('error' in ex || ex.status < 200 || ex.status >= 300) {
        return failed(ex, 'batch');
      }
      const json = parse(ex.text);
      const entries = isObject(json) && Array.isArray(json.entry) ? (json.entry as BundleEntry[]) : [];
      return { done: entries };
    });
  }

  /** `Type/id` of every resource that duplicates another under the same conditional key. */
  async function duplicates(bundle: Bundle, context: CallContext): Promise<string[]> {
    const keys = (bundle.entry ?? []).map((e) => e.request?.url ?? '').filter((url) => url.includes('?'));
    if (keys.length === 0) {
      return [];
    }
    const answers = await batch(
      keys.map((url) => ({ request: { method: 'GET', url: `${url}&_count=20` } })),
      context
    );
    return answers.flatMap((answer, i) => {
      const found = ((answer.resource as Bundle | undefined)?.entry ?? [])
        .map((e) => e.resource)
        .filter((r): r is Resource => r?.id !== undefined)
        .map((r) => `${r.resourceType}/${r.id}`)
        .sort();
      const type = keys[i]!.split('?')[0];
      return found.filter((where) => where.startsWith(`${type}/`)).slice(1);
    });
  }

  async function writeOnce(bundle: Bundle, context: CallContext): Promise<Bundle> {
    {
      const entries = bundle.entry ?? [];
      const results = new Map<BundleEntry, BundleEntry>();
      const written = new Map<string, string>();
      let chunks = splitTransaction(bundle, maxEntries ?? Math.max(entries.length, 1));
      for (let i = 0; i < chunks.length; i++) {
        const chunk = resolveWritten(chunks[i]!, written);
        let result: ChunkResult;
        try {
          result = await writeChunk(chunk, context);
        } catch (error) {
          // Medplum with transactions on caps a conditional transaction: learn the cap, re-split the rest.
          if (
            error instanceof HttpErrorClass &&
            error.status === 400 &&
            maxEntries === undefined &&
            STRICT_ISOLATION_CAP.test(JSON.stringify(error.outcome))
          ) {
            maxEntries = MEDPLUM_MAX_TRANSACTION_ENTRIES;
            context.log.info(
              { upstream: 'transaction', maxEntries },
              'upstream caps transactions; splitting'
            );
            chunks = [
              ...chunks.slice(0, i),
              ...splitTransaction(chunks[i]!, maxEntries),
              ...chunks.slice(i + 1),
            ];
            i--;
            continue;
          }
          throw results.size === 0 ? error : incomplete(entries, results, error);
        }
        (chunks[i]!.entry ?? []).forEach((sent, j) => {
          const answer = result.entries[j]!;
          results.set(sent, answer);
          const where = writtenAs(answer);
          if (sent.fullUrl && where && answer.response?.status?.startsWith('2')) {
            written.set(sent.fullUrl, where);
          }
        });
        if (!result.complete) {
          throw incomplete(entries, results, undefined, result.waitMs);
        }
      }
      return {
        resourceType: 'Bundle',
        type: 'transaction-response',
        ...(entries.length > 0 ? { entry: entries.map((e) => results.get(e)!) } : {}),
      };
    }
  }

  function reachable(): Promise<boolean> {
    // Cached for a few seconds, one probe at a time: /readyz is unauthenticated, and each probe
    // carries our token to the upstream.
    if (probe && now() - probe.at < PROBE_CACHE_MS) {
      return probe.result;
    }
    const result = (async (): Promise<boolean> => {
      try {
        const response = await fetchImpl(`${base}/metadata`, {
          headers: await headers('readiness'),
          redirect: 'manual',
          signal: AbortSignal.timeout(Math.min(timeoutMs, 5000)),
        });
        await response.arrayBuffer();
        return response.ok;
      } catch {
        return false;
      }
    })();
    probe = { at: now(), result };
    return result;
  }

  return client;
}

interface ChunkResult {
  /** One transaction-response entry per entry of the chunk, in its order. */
  readonly entries: BundleEntry[];
  readonly complete: boolean;
  /** How long the upstream asked us to wait before re-sending, when it said so. */
  readonly waitMs?: number;
}

/**
 * Whether a failed write carries the signature of losing a race with a concurrent writer of the same
 * keys, entry by entry: several matches (412), a conflict (409), or Medplum's "Resource ID did not match resolved ID"
 * (it resolved the key to nothing, then found the other writer's resource when it wrote). Re-sending the
 * Bundle resolves the keys again and succeeds.
 */
function lostRace(error: unknown): boolean {
  if (!(error instanceof HttpErrorClass)) {
    return false;
  }
  // Entry-level only: an upstream that refuses the transaction as a whole keeps its own answer.
  const text = error.outcome.issue.map((i) => i.details?.text ?? '').join('\n');
  return /→ (409|412)/.test(text) || text.includes('did not match resolved ID');
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * A 2xx must be a transaction-response with one entry per request entry, each with a status; whether
 * each entry succeeded is read entry by entry (a server that runs a transaction as a batch answers 200
 * with failed entries, and the others were written). A 2xx that cannot be read is a 502 that says the
 * write may have happened.
 */
function transactionResponse(sent: Bundle, text: string): { entries: BundleEntry[] } | { error: HttpError } {
  const malformed = (why: string): { error: HttpError } => ({
    error: httpError(
      502,
      'exception',
      `The upstream FHIR server returned an unusable transaction-response (${why}); the write may have happened (resubmitting is safe)`
    ),
  });
  const json = parse(text);
  if (json === undefined) {
    return malformed('the body is not JSON');
  }
  if (!isObject(json) || json.resourceType !== 'Bundle' || json.type !== 'transaction-response') {
    return malformed('it is not a transaction-response Bundle');
  }
  const entries = Array.isArray(json.entry) ? json.entry : [];
  if (entries.length !== (sent.entry?.length ?? 0)) {
    return malformed(`${entries.length} entries for ${sent.entry?.length ?? 0} requests`);
  }
  if (entries.some((e) => !isObject(e) || !isObject(e.response) || typeof e.response.status !== 'string')) {
    return malformed('an entry has no response status');
  }
  return { entries: entries as BundleEntry[] };
}

/**
 * The OperationOutcome of a write that stopped part-way: why, then every entry of the Bundle, written
 * (with where) or not (with the upstream's status and issues), then how to finish it. Its status is 503
 * with Retry-After when all that is missing was throttled (the upstream's own wait when it gave one,
 * else 60 s), else 502.
 */
function incomplete(
  entries: readonly BundleEntry[],
  results: ReadonlyMap<BundleEntry, BundleEntry>,
  cause?: unknown,
  upstreamWaitMs?: number
): HttpError {
  const issues: OperationOutcomeIssue[] = [];
  const statuses: number[] = [];
  let writtenCount = 0;
  entries.forEach((entry, i) => {
    const request = `${entry.request?.method ?? '?'} ${entry.request?.url ?? '?'}`;
    const answer = results.get(entry);
    const status = answer?.response?.status;
    if (status?.startsWith('2')) {
      writtenCount++;
      issues.push(
        issue(
          'information',
          'informational',
          `written: ${request} → ${status} ${answer?.response?.location ?? ''}`.trim(),
          [`Bundle.entry[${i}]`]
        )
      );
      return;
    }
    const code = Number.parseInt(status ?? '', 10);
    if (Number.isInteger(code)) {
      statuses.push(code);
    }
    const hint = permissionHint(code, entry);
    issues.push(
      issue(
        'error',
        code === 429 ? 'throttled' : code === 403 ? 'forbidden' : 'exception',
        `not written: ${request} → ${status ?? 'not sent'}${hint ? ` (${hint})` : ''}`,
        [`Bundle.entry[${i}]`]
      ),
      ...((answer?.response?.outcome as OperationOutcome | undefined)?.issue ?? [])
    );
  });
  const throttled = statuses.length > 0 && statuses.every((s) => RETRIED_ENTRY_STATUSES.has(s));
  const causeIssues = cause instanceof HttpErrorClass ? cause.outcome.issue : [];
  const head = issue(
    'error',
    throttled ? 'throttled' : 'incomplete',
    `The upstream FHIR server wrote ${writtenCount} of ${entries.length} entries. Resubmitting the same response completes the write and duplicates nothing (every write is a conditional update)`
  );
  return new HttpErrorClass(
    throttled ? 503 : 502,
    outcome([head, ...causeIssues, ...issues]),
    throttled ? { 'Retry-After': String(Math.max(1, Math.ceil((upstreamWaitMs ?? 60_000) / 1000))) } : {}
  );
}

function upstreamOutcome(text: string): OperationOutcome | undefined {
  const json = parse(text);
  return isObject(json) && json.resourceType === 'OperationOutcome' && Array.isArray(json.issue)
    ? (json as unknown as OperationOutcome)
    : undefined;
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
function rejected(status: number, text: string, what: string): HttpError {
  const theirs: OperationOutcomeIssue[] = upstreamOutcome(text)?.issue ?? [];
  const mayHaveWritten =
    what === 'transaction' && status >= 500
      ? '; the write may have happened (resubmitting is safe)'
      : what === 'transaction'
        ? '; nothing was written'
        : '';
  const hint = status === 403 ? ` (${permissionHint(403, undefined, what)})` : '';
  return new HttpErrorClass(
    502,
    outcome([
      issue(
        'error',
        'exception',
        `The upstream FHIR server failed the ${what} (HTTP ${status})${hint}${mayHaveWritten}`
      ),
      ...theirs,
    ])
  );
}
