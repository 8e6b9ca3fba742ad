/**
 * TEST FIXTURE, not a product component: a small SMART App Launch authorization server, built on `jose`,
 * standing in for an EHR's. It registers one public client (client id and exact redirect URI), issues
 * launch contexts (`launch` → patient, user, granted scopes), runs the authorization-code grant with PKCE
 * (S256 only), and signs its access tokens (JWT, RS256) with a key published as a JWKS.
 *
 * `install` puts it in front of a FHIR server stand-in (startMedplumTestFhirServer's `before`): CORS (the
 * page talks to the EHR from another origin), `{fhir}/.well-known/smart-configuration`, and a bearer check
 * that refuses every FHIR request without a valid token of this server: the EHR's FHIR server only ever
 * sees the user's token.
 *
 * It approves every authorization request that is well formed (no login, no consent screen): the tests are
 * about the app, not about the EHR's user interface.
 * See: https://hl7.org/fhir/smart-app-launch/app-launch.html
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import cors from 'cors';
import express from 'express';
import type { CryptoKey, JWK, JWTPayload } from 'jose';
import { exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';

/** What a launch gives the app. */
export interface LaunchContext {
  /** The patient id in context; absent: a launch without a patient. */
  readonly patient?: string;
  /** The `fhirUser` claim, e.g. `Practitioner/123`. */
  readonly fhirUser?: string;
  /**
   * The scopes granted: by default every scope requested; with this, exactly these (a user or an EHR
   * policy that grants other scopes than the app asks for).
   */
  readonly grant?: readonly string[];
}

/** One token issued. */
export interface IssuedToken {
  readonly accessToken: string;
  readonly scope: string;
  readonly patient?: string;
}

/** A running launcher. */
export interface SmartLauncher {
  /** Its origin, also the token issuer (`iss`). */
  readonly issuer: string;
  readonly authorizeUrl: string;
  readonly tokenUrl: string;
  readonly jwksUrl: string;
  /** Every access token issued, in order. */
  readonly issued: IssuedToken[];
  /** Every authorization request refused, with the reason (`error_description`). */
  readonly refused: string[];
  /** The FHIR base the tokens are for (`aud`): set once the FHIR server stand-in listens. */
  fhirBase: string;
  /** The patient a standalone launch (scope `launch/patient`) picks. */
  standalonePatient?: string;
  /** Registers a launch context; returns the opaque `launch` value for the launch URL. */
  launch(context: LaunchContext): string;
  /** Signs an access token directly, as the token endpoint would for this context and scope (HTTP tests). */
  mint(context: LaunchContext, scope: string): Promise<string>;
  /** Verifies a token of this launcher (signature, issuer, audience, expiry). */
  verify(token: string): Promise<JWTPayload>;
  /** Installs CORS, the SMART configuration and the bearer check in front of a FHIR server stand-in. */
  install(app: express.Express, fhirPath?: string): void;
  close(): Promise<void>;
}

interface PendingCode {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly challenge: string;
  readonly scope: string;
  readonly context: LaunchContext;
}

/**
 * Starts the launcher on 127.0.0.1 with an ephemeral port.
 * @param registration - The app's registration: its client id and exact redirect URI (may be set later).
 */
export async function startSmartLauncher(registration: {
  clientId: string;
  redirectUri?: string;
}): Promise<SmartLauncher & { redirectUri: string }> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = `launcher-${randomUUID()}`;
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const launches = new Map<string, LaunchContext>();
  const codes = new Map<string, PendingCode>();
  const app = express();
  app.use(cors());
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const launcher: SmartLauncher & { redirectUri: string } = {
    issuer,
    authorizeUrl: `${issuer}/authorize`,
    tokenUrl: `${issuer}/token`,
    jwksUrl: `${issuer}/jwks.json`,
    issued: [],
    refused: [],
    fhirBase: '',
    redirectUri: registration.redirectUri ?? '',
    launch(context) {
      const id = randomUUID();
      launches.set(id, context);
      return id;
    },
    mint(context, scope) {
      return sign(
        privateKey,
        kid,
        {
          scope,
          ...(context.patient ? { patient: context.patient } : {}),
          ...(context.fhirUser ? { fhirUser: context.fhirUser } : {}),
        },
        issuer,
        launcher.fhirBase,
        Math.floor(Date.now() / 1000)
      );
    },
    async verify(token) {
      const { payload } = await jwtVerify(token, publicKey, {
        issuer,
        audience: launcher.fhirBase,
        algorithms: ['RS256'],
      });
      return payload;
    },
    install(fhirApp, fhirPath = '/fhir') {
      fhirApp.use(cors({ exposedHeaders: ['Location', 'ETag'] }));
      fhirApp.get(`${fhirPath}/.well-known/smart-configuration`, (_req, res) => {
        res.json({
          issuer,
          jwks_uri: launcher.jwksUrl,
          authorization_endpoint: launcher.authorizeUrl,
          token_endpoint: launcher.tokenUrl,
          grant_types_supported: ['authorization_code'],
          response_types_supported: ['code'],
          code_challenge_methods_supported: ['S256'],
          token_endpoint_auth_methods_supported: ['none'],
          scopes_supported: ['openid', 'fhirUser', 'launch', 'launch/patient', 'patient/*.cruds'],
          capabilities: [
            'launch-ehr',
            'launch-standalone',
            'client-public',
            'context-ehr-patient',
            'context-standalone-patient',
            'sso-openid-connect',
            'permission-v2',
          ],
        });
      });
      fhirApp.use(fhirPath, (req, res, next) => {
        if (req.method === 'OPTIONS') {
          next();
          return;
        }
        const token = /^Bearer (.+)$/.exec(req.get('authorization') ?? '')?.[1];
        launcher
          .verify(token ?? '')
          .then(() => next())
          .catch(() => {
            res.status(401).json({
              resourceType: 'OperationOutcome',
              issue: [{ severity: 'error', code: 'login', details: { text: 'Unauthorized' } }],
            });
          });
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };

  app.get('/jwks.json', (_req, res) => {
    res.json({ keys: [publicJwk] });
  });

  app.get('/authorize', (req, res) => {
    const q = req.query as Record<string, string | undefined>;
    // Without the registered client and redirect URI there is nowhere safe to send an error: 400 here.
    if (q.client_id !== registration.clientId || q.redirect_uri !== launcher.redirectUri) {
      launcher.refused.push('unknown client or redirect URI');
      res.status(400).send('unknown client or redirect URI');
      return;
    }
    const back = (params: Record<string, string>): void => {
      const url = new URL(launcher.redirectUri);
      for (const [name, value] of Object.entries(params)) {
        url.searchParams.set(name, value);
      }
      res.redirect(302, url.href);
    };
    const refuse = (description: string): void => {
      launcher.refused.push(description);
      back({
        error: 'invalid_request',
        error_description: description,
        ...(q.state ? { state: q.state } : {}),
      });
    };
    const scopes = (q.scope ?? '').split(' ').filter((s) => s !== '');
    if (q.response_type !== 'code' || !q.state) {
      refuse('response_type=code and a state are required');
      return;
    }
    if (q.aud !== launcher.fhirBase) {
      refuse('aud is not this EHR FHIR server');
      return;
    }
    if (q.code_challenge_method !== 'S256' || !q.code_challenge) {
      refuse('PKCE with S256 is required');
      return;
    }
    let context: LaunchContext | undefined;
    if (q.launch !== undefined) {
      context = launches.get(q.launch);
      if (!context || !scopes.includes('launch')) {
        refuse('unknown launch, or the launch scope is missing');
        return;
      }
    } else {
      context = scopes.includes('launch/patient') ? { patient: launcher.standalonePatient } : {};
    }
    const code = randomUUID();
    const granted = context.grant ? [...context.grant] : scopes;
    codes.set(code, {
      clientId: q.client_id,
      redirectUri: q.redirect_uri,
      challenge: q.code_challenge,
      scope: granted.join(' '),
      context,
    });
    back({ code, state: q.state });
  });

  app.post('/token', express.urlencoded({ extended: false }), async (req, res) => {
    const body = req.body as Record<string, string | undefined>;
    const pending = body.code === undefined ? undefined : codes.get(body.code);
    if (body.code !== undefined) {
      codes.delete(body.code); // a code is good once
    }
    const verifier = body.code_verifier ?? '';
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    if (
      body.grant_type !== 'authorization_code' ||
      !pending ||
      pending.clientId !== body.client_id ||
      pending.redirectUri !== body.redirect_uri ||
      pending.challenge !== challenge
    ) {
      res.status(400).json({ error: 'invalid_grant' });
      return;
    }
    const { patient, fhirUser } = pending.context;
    const now = Math.floor(Date.now() / 1000);
    // An hour: no token may expire while a test runs on a loaded machine.
    const claims: JWTPayload = {
      scope: pending.scope,
      ...(patient ? { patient } : {}),
      ...(fhirUser ? { fhirUser } : {}),
    };
    const accessToken = await sign(privateKey, kid, claims, issuer, launcher.fhirBase, now);
    const idToken =
      fhirUser && pending.scope.split(' ').includes('openid')
        ? await sign(privateKey, kid, { fhirUser }, issuer, pending.clientId, now)
        : undefined;
    launcher.issued.push({ accessToken, scope: pending.scope, ...(patient ? { patient } : {}) });
    res.set('Cache-Control', 'no-store').json({
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: 3600,
      scope: pending.scope,
      ...(patient ? { patient } : {}),
      ...(idToken ? { id_token: idToken } : {}),
    });
  });

  return launcher;
}

function sign(
  key: CryptoKey,
  kid: string,
  claims: JWTPayload,
  issuer: string,
  audience: string,
  now: number
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
    .setIssuer(issuer)
    .setAudience(audience)
    .setSubject('user-1')
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .setJti(randomUUID())
    .sign(key);
}
