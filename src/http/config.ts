import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import type { EngineDeps } from '../core/operations';
import type { Clock, IdGenerator } from '../core/types';
import type { TaskRunner } from './pool/runner';

/** Inbound auth: bearer JWTs verified with a JWKS URL or one public key. Absent means auth is off. */
export interface AuthConfig {
  /** Expected `iss` claim. */
  readonly issuer: string;
  /** Expected `aud` claim (usually this server's FHIR base URL). */
  readonly audience: string;
  /** JWKS URL of the authorization server (keys selected by `kid`). */
  readonly jwksUrl?: string;
  /** One public key, as PEM (SPKI or certificate) or a JWK JSON string, when there is no JWKS. */
  readonly publicKey?: string;
  /** Accepted signature algorithms; asymmetric only (HS* and `none` are always refused). */
  readonly algorithms?: readonly string[];
  /** Advertised in `/.well-known/smart-configuration` and the CapabilityStatement. */
  readonly authorizeUrl?: string;
  readonly tokenUrl?: string;
  /** Allowed clock skew for `exp`/`nbf`, in seconds (default 30). */
  readonly clockToleranceSeconds?: number;
}

/** SMART Backend Services (client credentials with a signed JWT assertion) towards the upstream. */
export interface BackendServicesConfig {
  readonly tokenUrl: string;
  readonly clientId: string;
  /** Private key as PEM (PKCS#8) or a JWK JSON string. */
  readonly privateKey: string;
  /** `kid` put in the assertion header (the key's id in the client's registered JWKS). */
  readonly keyId?: string;
  /** Assertion algorithm (default RS384, as SMART Backend Services recommends). */
  readonly algorithm?: string;
  /** Requested scopes (default: the write scopes `$re-evaluate` needs). */
  readonly scope?: string;
}

/** Where `$re-evaluate` sends its transaction, and how. Absent means no upstream: the Bundle is returned. */
export interface UpstreamConfig {
  /** FHIR base URL of the upstream server; the transaction is POSTed to it. */
  readonly url: string;
  /** A static bearer token. */
  readonly token?: string;
  /** Or SMART Backend Services. */
  readonly backendServices?: BackendServicesConfig;
  /**
   * Or the caller's own bearer token, forwarded (default false): for a SMART app launched from the EHR whose
   * FHIR server is this upstream, so the EHR reads and writes as the user, within the user's scopes. Needs
   * `auth` (the token is verified here first) and excludes `token` and `backendServices`.
   */
  readonly forwardUserToken?: boolean;
  /** Per-attempt timeout in milliseconds (default 10 000). */
  readonly timeoutMs?: number;
  /** Retries after the first attempt on network errors, timeouts, 429 and 5xx (default 2). */
  readonly retries?: number;
  /** Base delay between retries in milliseconds, doubled each time (default 200). */
  readonly retryDelayMs?: number;
  /** Total time one write may spend waiting to retry, in milliseconds (default 30 000). */
  readonly retryBudgetMs?: number;
  /**
   * The most entries sent in one transaction (default: no cap; Medplum's strict-isolation cap of 8 is
   * learnt from its first refusal). Larger Bundles are written as ordered chunks, Provenance last.
   */
  readonly maxTransactionEntries?: number;
  /**
   * The most submissions of one response queued or running in this process (default 16); past it 429
   * with Retry-After, so that requests for one response cannot pile up without bound.
   */
  readonly maxQueuedPerResponse?: number;
  /**
   * After each write, search every key and delete all but one of any duplicates (then rewrite), so that
   * several server processes writing the same response converge on one result set (default true).
   */
  readonly repairDuplicates?: boolean;
}

/**
 * SMART App Launch of the clinician page (`launch.html`): the page's registration at the EHR's
 * authorization server. Absent: the page has no SMART mode. See docs/smart-launch.md.
 */
export interface SmartLaunchConfig {
  /** The `client_id` the EHR registered for the page. */
  readonly clientId: string;
  /** Scopes the page requests (default SMART_DEFAULT_SCOPE in src/http/auth/forward.ts). */
  readonly scope?: string;
}

/** A CDS client (an EHR) allowed to call the CDS Hooks services: its issuer and where its keys are. */
export interface CdsClientConfig {
  /** The `iss` of its JWTs. */
  readonly issuer: string;
  /** Its public keys, configured out of band (a JWKS). */
  readonly jwks?: { readonly keys: readonly Record<string, unknown>[] };
  /** JWKS URLs its JWTs may name in the `jku` header; any other `jku` is refused. */
  readonly jkuAllowList?: readonly string[];
}

/** The CDS Hooks 2.0 services (`/cds-services`); see docs/cds-hooks.md. */
export interface CdsHooksConfig {
  /**
   * This server's public URL (origin and any path prefix, without `/cds-services`). A client's JWT must
   * have `aud` = `<baseUrl>/cds-services/<id>`; the Host header is never trusted for it.
   */
  readonly baseUrl: string;
  readonly clients: readonly CdsClientConfig[];
  /** The SMART launch URL of the clinician page, offered as the card's app link (default `<baseUrl>/launch.html`). */
  readonly launchUrl?: string;
  /** FHIR bases the service may read missing prefetch from (a request's `fhirServer` must be one). */
  readonly fhirServers?: readonly string[];
  /** Timeout of each read from a `fhirServer` (default 10 000 ms). */
  readonly fetchTimeoutMs?: number;
}

/** Everything `createApp` accepts. Every field is optional; the defaults serve the local demo. */
export interface AppConfig {
  /** The engine (default: a Node engine over the shipped content, built once). */
  readonly engine?: EngineDeps;
  /** Overrides the engine's clock (tests pin it). */
  readonly clock?: Clock;
  /** Overrides the engine's id generator (tests use counters). */
  readonly newId?: IdGenerator;
  /** Path of the FHIR base (default `/fhir`). */
  readonly fhirBase?: string;
  /** Absolute public URL of the FHIR base, for fullUrls and links (default: from the request's Host). */
  readonly publicBaseUrl?: string;
  /** Largest accepted body, in bytes or as `'1mb'` (default 1 MB). */
  readonly bodyLimit?: string | number;
  /** Origins allowed by CORS (`['*']` for any). Absent or empty: CORS is off. */
  readonly corsOrigins?: readonly string[];
  /** A directory of static files served at `/` (the web page); absent: a placeholder page. */
  readonly webRoot?: string;
  /** Structured logger (default: pino at `logLevel`). */
  readonly logger?: Logger;
  /** Level of the default logger (default `info`). */
  readonly logLevel?: string;
  readonly auth?: AuthConfig;
  readonly upstream?: UpstreamConfig;
  readonly smartLaunch?: SmartLaunchConfig;
  /** CDS Hooks services at `/cds-services`; off when absent. */
  readonly cdsHooks?: CdsHooksConfig;
  /** Express `trust proxy` setting, for `req.protocol`/`req.ip` behind a proxy. */
  readonly trustProxy?: boolean | string | number;
  /**
   * Accept a Questionnaire or PlanDefinition given inline to `$extract`, `$re-evaluate` and `$apply`
   * (default false: its expressions would run on this server without a time limit).
   */
  readonly inlineDefinitions?: boolean;
  /**
   * Where the CPU-heavy operations run: server.ts passes a WorkerPool (pool/pool.ts). Absent: in the
   * request's thread, on `engine` (tests that pin the clock and ids; no CPU budget applies).
   */
  readonly tasks?: TaskRunner;
}

/** Server process settings that are not part of the app. */
export interface ServerConfig {
  readonly port: number;
  /** Address to listen on; absent: every interface (only with auth on, or HOST set). */
  readonly host?: string;
  /** How long in-flight requests may run after SIGTERM before connections are cut (default 10 000 ms). */
  readonly shutdownTimeoutMs: number;
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads the app configuration from environment variables (the README lists them):
 * `FHIR_BASE_PATH`, `PUBLIC_BASE_URL`, `BODY_LIMIT`, `CORS_ORIGINS`, `WEB_ROOT`, `LOG_LEVEL`,
 * `TRUST_PROXY`, `INLINE_DEFINITIONS`; `AUTH_ISSUER`, `AUTH_AUDIENCE`, `AUTH_JWKS_URL`, `AUTH_PUBLIC_KEY[_FILE]`,
 * `AUTH_ALGORITHMS`, `AUTH_AUTHORIZE_URL`, `AUTH_TOKEN_URL`; `FHIR_UPSTREAM_URL`, `FHIR_UPSTREAM_TOKEN`,
 * `FHIR_UPSTREAM_TOKEN_URL`, `FHIR_UPSTREAM_CLIENT_ID`, `FHIR_UPSTREAM_PRIVATE_KEY[_FILE]`,
 * `FHIR_UPSTREAM_KEY_ID`, `FHIR_UPSTREAM_KEY_ALG`, `FHIR_UPSTREAM_SCOPE`, `FHIR_UPSTREAM_TIMEOUT_MS`, `FHIR_UPSTREAM_RETRY_BUDGET_MS`, `FHIR_UPSTREAM_MAX_ENTRIES`, `FHIR_UPSTREAM_MAX_QUEUED`, `FHIR_UPSTREAM_REPAIR`,
 * `FHIR_UPSTREAM_RETRIES`, `FHIR_UPSTREAM_FORWARD_TOKEN`; `SMART_CLIENT_ID`, `SMART_SCOPE`; `CDS_HOOKS_CONFIG[_FILE]` (JSON, docs/cds-hooks.md). Throws an Error naming the variable when a setting is inconsistent, so a
 * misconfigured server fails at start rather than at the first request.
 * @param env - The environment (usually `process.env`).
 */
export function appConfigFromEnv(env: Env): AppConfig {
  return {
    fhirBase: env.FHIR_BASE_PATH || undefined,
    publicBaseUrl: env.PUBLIC_BASE_URL || undefined,
    bodyLimit: env.BODY_LIMIT || undefined,
    corsOrigins: list(env.CORS_ORIGINS),
    webRoot: env.WEB_ROOT || undefined,
    logLevel: env.LOG_LEVEL || undefined,
    trustProxy: trustProxy(env.TRUST_PROXY),
    inlineDefinitions: flag(env, 'INLINE_DEFINITIONS'),
    auth: authFromEnv(env),
    upstream: upstreamFromEnv(env),
    smartLaunch: env.SMART_CLIENT_ID
      ? { clientId: env.SMART_CLIENT_ID, scope: env.SMART_SCOPE || undefined }
      : undefined,
    cdsHooks: cdsHooksFromEnv(env),
  };
}

/**
 * Reads `PORT` (default 8080), `HOST` and `SHUTDOWN_TIMEOUT_MS` (default 10 000).
 * @param env - The environment.
 */
export function serverConfigFromEnv(env: Env): ServerConfig {
  const authOn = authFromEnv(env) !== undefined;
  // Without auth the server is a local demo: loopback unless HOST says otherwise (server.ts warns).
  const host = env.HOST || (authOn ? undefined : '127.0.0.1');
  if (!isLoopback(host) && !env.PUBLIC_BASE_URL) {
    // Off loopback, the Host header is the client's to choose: it must not become our fullUrls and links.
    throw new Error(
      `PUBLIC_BASE_URL is required when the server listens beyond loopback (HOST=${host ?? '(all interfaces)'})`
    );
  }
  return {
    port: integer(env, 'PORT') ?? 8080,
    host,
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS') ?? 10_000,
  };
}

/** True for a loopback name or address (reachable from this machine only); absent means every interface. */
export function isLoopback(host: string | undefined): boolean {
  if (host === undefined) {
    return false;
  }
  const bare = host.replace(/^\[|\]$/g, '');
  return (
    bare === 'localhost' || bare === '::1' || /^127(\.\d{1,3}){3}$/.test(bare) || bare === '::ffff:127.0.0.1'
  );
}

/**
 * The warning to log at start, if any: listening beyond loopback with authentication off exposes
 * every operation to whoever can reach the port.
 */
export function bindingWarning(server: ServerConfig, app: AppConfig): string | undefined {
  if (app.auth || isLoopback(server.host)) {
    return undefined;
  }
  return `listening on ${server.host ?? 'every interface'} with authentication OFF: anyone who can reach this port can submit responses and read the results`;
}

function authFromEnv(env: Env): AuthConfig | undefined {
  if (!env.AUTH_ISSUER && !env.AUTH_AUDIENCE && !env.AUTH_JWKS_URL && !keyText(env, 'AUTH_PUBLIC_KEY')) {
    return undefined;
  }
  const issuer = required(env, 'AUTH_ISSUER');
  const audience = required(env, 'AUTH_AUDIENCE');
  const publicKey = keyText(env, 'AUTH_PUBLIC_KEY');
  if (!env.AUTH_JWKS_URL && !publicKey) {
    throw new Error('Auth is configured: set AUTH_JWKS_URL or AUTH_PUBLIC_KEY (or AUTH_PUBLIC_KEY_FILE)');
  }
  return {
    issuer,
    audience,
    jwksUrl: env.AUTH_JWKS_URL || undefined,
    publicKey,
    algorithms: list(env.AUTH_ALGORITHMS),
    authorizeUrl: env.AUTH_AUTHORIZE_URL || undefined,
    tokenUrl: env.AUTH_TOKEN_URL || undefined,
  };
}

/**
 * `CDS_HOOKS_CONFIG` (or a file named by `CDS_HOOKS_CONFIG_FILE`): the CDS Hooks settings as JSON.
 * Checked here, so that a client without keys or a relative URL fails at start.
 */
function cdsHooksFromEnv(env: Env): CdsHooksConfig | undefined {
  const text = keyText(env, 'CDS_HOOKS_CONFIG');
  if (text === undefined) {
    return undefined;
  }
  const fail = (why: string): never => {
    throw new Error(`CDS_HOOKS_CONFIG: ${why}`);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return fail('not JSON');
  }
  const config = parsed as Partial<CdsHooksConfig>;
  const isUrl = (v: unknown): boolean => typeof v === 'string' && /^https?:\/\/[^\s]+$/.test(v);
  if (typeof parsed !== 'object' || parsed === null || !isUrl(config.baseUrl)) {
    fail('baseUrl must be an absolute http(s) URL');
  }
  if (!Array.isArray(config.clients)) {
    fail('clients must be a list');
  }
  for (const client of config.clients!) {
    if (typeof client?.issuer !== 'string' || client.issuer === '') {
      fail('every client needs an issuer');
    }
    const keys = Array.isArray(client.jwks?.keys) && client.jwks.keys.length > 0;
    const jku = Array.isArray(client.jkuAllowList) && client.jkuAllowList.length > 0;
    if (!keys && !jku) {
      fail(`client ${client.issuer} needs jwks keys or a jkuAllowList`);
    }
    if (jku && !client.jkuAllowList!.every(isUrl)) {
      fail(`client ${client.issuer}: every jkuAllowList entry must be an http(s) URL`);
    }
  }
  for (const [name, value] of [['launchUrl', config.launchUrl]] as const) {
    if (value !== undefined && !isUrl(value)) {
      fail(`${name} must be an absolute http(s) URL`);
    }
  }
  if (
    config.fhirServers !== undefined &&
    (!Array.isArray(config.fhirServers) || !config.fhirServers.every(isUrl))
  ) {
    fail('fhirServers must be a list of http(s) URLs');
  }
  return config as CdsHooksConfig;
}

function upstreamFromEnv(env: Env): UpstreamConfig | undefined {
  const url = env.FHIR_UPSTREAM_URL;
  if (!url) {
    return undefined;
  }
  const privateKey = keyText(env, 'FHIR_UPSTREAM_PRIVATE_KEY');
  const backendServices: BackendServicesConfig | undefined =
    env.FHIR_UPSTREAM_CLIENT_ID || env.FHIR_UPSTREAM_TOKEN_URL || privateKey
      ? {
          tokenUrl: required(env, 'FHIR_UPSTREAM_TOKEN_URL'),
          clientId: required(env, 'FHIR_UPSTREAM_CLIENT_ID'),
          privateKey: privateKey ?? required(env, 'FHIR_UPSTREAM_PRIVATE_KEY'),
          keyId: env.FHIR_UPSTREAM_KEY_ID || undefined,
          algorithm: env.FHIR_UPSTREAM_KEY_ALG || undefined,
          scope: env.FHIR_UPSTREAM_SCOPE || undefined,
        }
      : undefined;
  const forwardUserToken = flag(env, 'FHIR_UPSTREAM_FORWARD_TOKEN');
  if (forwardUserToken && (backendServices || env.FHIR_UPSTREAM_TOKEN)) {
    throw new Error(
      "FHIR_UPSTREAM_FORWARD_TOKEN sends the user's token: set neither FHIR_UPSTREAM_TOKEN nor SMART Backend Services with it"
    );
  }
  if (backendServices && env.FHIR_UPSTREAM_TOKEN) {
    throw new Error(
      'Set either FHIR_UPSTREAM_TOKEN or SMART Backend Services (FHIR_UPSTREAM_CLIENT_ID …), not both'
    );
  }
  return {
    url,
    token: env.FHIR_UPSTREAM_TOKEN || undefined,
    backendServices,
    forwardUserToken,
    timeoutMs: integer(env, 'FHIR_UPSTREAM_TIMEOUT_MS'),
    retries: integer(env, 'FHIR_UPSTREAM_RETRIES'),
    retryBudgetMs: integer(env, 'FHIR_UPSTREAM_RETRY_BUDGET_MS'),
    maxTransactionEntries: integer(env, 'FHIR_UPSTREAM_MAX_ENTRIES'),
    maxQueuedPerResponse: integer(env, 'FHIR_UPSTREAM_MAX_QUEUED'),
    repairDuplicates: flag(env, 'FHIR_UPSTREAM_REPAIR'),
  };
}

function required(env: Env, name: string): string {
  const value = env[name];
  if (!value) {
    throw new Error(`${name} is required by the configuration`);
  }
  return value;
}

function integer(env: Env, name: string): number | undefined {
  const value = env[name];
  if (value === undefined || value === '') {
    return undefined;
  }
  if (!/^\d+$/.test(value)) {
    throw new Error(`${name} must be a non-negative integer`);
  }
  return Number(value);
}

function flag(env: Env, name: string): boolean | undefined {
  const value = env[name];
  if (value === undefined || value === '') {
    return undefined;
  }
  if (value !== 'true' && value !== 'false') {
    throw new Error(`${name} must be true or false`);
  }
  return value === 'true';
}

function list(value: string | undefined): string[] | undefined {
  const items = (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return items.length > 0 ? items : undefined;
}

function trustProxy(value: string | undefined): boolean | string | number | undefined {
  if (value === undefined || value === '') {
    return undefined;
  }
  if (value === 'true' || value === 'false') {
    return value === 'true';
  }
  return /^\d+$/.test(value) ? Number(value) : value;
}

/** A key given inline (`NAME`) or as a file (`NAME_FILE`). */
function keyText(env: Env, name: string): string | undefined {
  const file = env[`${name}_FILE`];
  return file ? readFileSync(file, 'utf8') : env[name] || undefined;
}

// ---- Worker pool and request limits (src/http/pool, lifecycle.ts; docs/server-operations.md) ----

/** The worker pool that runs the CPU-heavy operations. */
export interface PoolConfig {
  /** Worker threads; 0 runs the operations in the main thread (no budget). Default: one per core. */
  readonly workers: number;
  /** Tasks that may wait for a free worker before requests get 503 + Retry-After (default 64). */
  readonly queueLimit: number;
  /** Busy time one operation may take in a worker before it is stopped with 503, in ms (default 10 000). */
  readonly budgetMs: number;
  /** Old-generation heap limit of each worker in MB (default: Node's). */
  readonly maxHeapMb?: number;
}

/**
 * Reads `WORKERS` (default `os.availableParallelism()`), `POOL_QUEUE_LIMIT`, `TASK_BUDGET_MS`,
 * `WORKER_MAX_HEAP_MB`.
 * @param env - The environment.
 * @param cores - The number of cores (default `os.availableParallelism()`).
 */
export function poolConfigFromEnv(env: Env, cores = availableParallelism()): PoolConfig {
  const budgetMs = integer(env, 'TASK_BUDGET_MS') ?? 10_000;
  if (budgetMs < 1) {
    throw new Error('TASK_BUDGET_MS must be at least 1');
  }
  const maxHeapMb = integer(env, 'WORKER_MAX_HEAP_MB');
  if (maxHeapMb !== undefined && maxHeapMb < MIN_WORKER_HEAP_MB) {
    throw new Error(`WORKER_MAX_HEAP_MB must be at least ${MIN_WORKER_HEAP_MB}`);
  }
  return {
    workers: integer(env, 'WORKERS') ?? cores,
    queueLimit: integer(env, 'POOL_QUEUE_LIMIT') ?? 64,
    budgetMs,
    maxHeapMb,
  };
}

/**
 * The smallest worker heap accepted: below a few MB Node 22 cannot even start the worker's isolate and
 * aborts the whole process ("GC during deserialization") instead of failing the worker alone.
 */
export const MIN_WORKER_HEAP_MB = 16;

/** Limits of the HTTP server itself (lifecycle.ts). */
export interface ServerLimits {
  /** Requests being handled at once; past it, 503 + Retry-After (health probes are exempt). Default 256. */
  readonly maxInFlight: number;
  /** Time to receive a request's headers, in ms (default 20 000). */
  readonly headersTimeoutMs: number;
  /** Time to receive a whole request, body included, in ms (default 60 000). */
  readonly requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this, in ms (default 5 000). */
  readonly keepAliveTimeoutMs: number;
  /** A connection with no traffic either way is closed after this, in ms (default 120 000). */
  readonly connectionTimeoutMs: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  maxInFlight: 256,
  headersTimeoutMs: 20_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  connectionTimeoutMs: 120_000,
};

/**
 * Reads `MAX_IN_FLIGHT`, `HEADERS_TIMEOUT_MS`, `REQUEST_TIMEOUT_MS`, `KEEP_ALIVE_TIMEOUT_MS`,
 * `CONNECTION_TIMEOUT_MS`.
 * @param env - The environment.
 */
export function serverLimitsFromEnv(env: Env): ServerLimits {
  const d = DEFAULT_SERVER_LIMITS;
  const limits: ServerLimits = {
    maxInFlight: integer(env, 'MAX_IN_FLIGHT') ?? d.maxInFlight,
    headersTimeoutMs: integer(env, 'HEADERS_TIMEOUT_MS') ?? d.headersTimeoutMs,
    requestTimeoutMs: integer(env, 'REQUEST_TIMEOUT_MS') ?? d.requestTimeoutMs,
    keepAliveTimeoutMs: integer(env, 'KEEP_ALIVE_TIMEOUT_MS') ?? d.keepAliveTimeoutMs,
    connectionTimeoutMs: integer(env, 'CONNECTION_TIMEOUT_MS') ?? d.connectionTimeoutMs,
  };
  if (limits.maxInFlight < 1) {
    throw new Error('MAX_IN_FLIGHT must be at least 1');
  }
  // Node refuses a headers timeout longer than the request timeout.
  if (limits.requestTimeoutMs > 0 && limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw new Error('HEADERS_TIMEOUT_MS must not exceed REQUEST_TIMEOUT_MS');
  }
  return limits;
}
