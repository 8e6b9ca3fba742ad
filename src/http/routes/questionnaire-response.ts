import { Router } from 'express';
import type { Bundle, Questionnaire, QuestionnaireResponse, StructureDefinition } from '@medplum/fhirtypes';
import type { PreviousWrites } from '../../core/bundle/reconcile';
import { CANONICAL_BASE, PROFILE } from '../../core/constants';
import { isObject } from '../../core/json';
import { outcome } from '../../core/outcomes';
import { extractParameters } from '../../index';
import { authorize, RESPONSE_NEED, WRITE_NEEDS } from '../auth/scopes';
import type { AppContext, Routes } from '../context';
import { BODY_NOT_JSON, httpError, HttpError, methodNotAllowed } from '../errors';
import { inlineDefinition } from '../inline-definitions';
import { OperationInput } from '../parameters';
import { reEvaluateInput, responseRequest, subjectOf } from '../re-evaluate-input';
import { whenClientGone } from '../pool/runner';
import { sendFhirJson, sendOutcome, sendResource } from '../send';
import { previousUpstreamWrites } from '../upstream/previous-writes';
import { storedResponse } from '../upstream/stored-response';
import { upstreamCallContext } from '../auth/forward';
import { QueueFull } from '../keyed-lock';

/** SDC STU4 `$extract`. */
export const SDC_EXTRACT = 'http://hl7.org/fhir/uv/sdc/OperationDefinition/QuestionnaireResponse-extract';
/** `$re-evaluate`'s path under the FHIR base (its body is read as bytes there: app.ts). */
export const RE_EVALUATE_PATH = '/QuestionnaireResponse/$re-evaluate';
/** R4 `$validate`. */
export const R4_VALIDATE = 'http://hl7.org/fhir/OperationDefinition/Resource-validate';
/** Our `$re-evaluate` (profiles/OperationDefinition-re-evaluate.json). */
export const RE_EVALUATE = `${CANONICAL_BASE}/OperationDefinition/re-evaluate`;

/**
 * The body's bytes in a Uint8Array that owns its ArrayBuffer whole, so the pool can transfer it: as
 * read, or a copy when it is a view into a larger buffer (Node's pooled slab must never be moved).
 */
function ownedBytes(body: Uint8Array): Uint8Array {
  return body.byteOffset === 0 && body.byteLength === body.buffer.byteLength ? body : new Uint8Array(body);
}

/** The 400 for a body that is not JSON (json-text.ts), as it comes back from the pool. */
function isBodyNotJson(err: unknown): boolean {
  return (
    err instanceof HttpError &&
    err.status === 400 &&
    err.outcome.issue?.length === 1 &&
    err.outcome.issue[0]!.details?.text === BODY_NOT_JSON
  );
}

/**
 * Operations on submitted QuestionnaireResponses (none is stored here):
 * - `$validate` (R4): every issue, structural and conformance, in one OperationOutcome (200);
 * - `$extract` (SDC STU4): Parameters with `return` (the transaction Bundle) and `issues`;
 * - `$re-evaluate`: validate → extract → apply → one transaction Bundle of idempotent writes; returned as
 *   is, or POSTed to the upstream as one transaction whose transaction-response is returned.
 * @param ctx - The app context.
 */
export function questionnaireResponseRoutes(ctx: AppContext): Routes {
  const router = Router();
  const { deps } = ctx;

  router.post('/QuestionnaireResponse/\\$validate', async (req, res) => {
    const body: unknown = req.body;
    let resource: unknown = body;
    let profile: string | undefined;
    if (isObject(body) && body.resourceType === 'Parameters') {
      const params = OperationInput.fromParameters(body, ['resource', 'mode', 'profile']);
      resource = params.resource('resource');
      const mode = params.string('mode');
      if (mode !== undefined && !['create', 'update', 'profile'].includes(mode)) {
        throw httpError(
          400,
          'not-supported',
          `$validate mode ${mode} is not supported (create, update, profile)`
        );
      }
      profile = params.string('profile');
      if (resource === undefined) {
        throw httpError(400, 'required', 'Parameter resource is required');
      }
    }
    if (!isObject(resource)) {
      throw httpError(400, 'structure', 'The body must be a QuestionnaireResponse or a Parameters resource');
    }
    if (resource.resourceType !== 'QuestionnaireResponse') {
      throw httpError(
        400,
        'structure',
        typeof resource.resourceType === 'string'
          ? `QuestionnaireResponse/$validate validates QuestionnaireResponses, not ${resource.resourceType}`
          : 'QuestionnaireResponse/$validate validates QuestionnaireResponses; this body has no resourceType'
      );
    }
    authorize(req, [RESPONSE_NEED], subjectOf(resource as unknown as QuestionnaireResponse));
    if (
      profile !== undefined &&
      !deps.registry.resolve<StructureDefinition>(profile, 'StructureDefinition')
    ) {
      throw httpError(404, 'not-found', `Profile ${profile} is not known to this server`);
    }
    const issues = await ctx.tasks.run({ op: 'validate', resource, profile }, whenClientGone(res));
    // R4 $validate: the operation succeeded if it could validate; the findings are the outcome.
    sendOutcome(req, res, 200, outcome(issues));
  });

  router.post('/QuestionnaireResponse/\\$extract', async (req, res) => {
    const { response, params } = responseRequest(req.body, ['questionnaire-response', 'questionnaire']);
    authorize(req, [RESPONSE_NEED], subjectOf(response));
    const questionnaire = inlineDefinition<Questionnaire>(ctx, params, 'questionnaire', 'Questionnaire');
    const { bundle, issues } = await ctx.tasks.run(
      { op: 'extract', response, questionnaire },
      whenClientGone(res)
    );
    sendResource(req, res, 200, extractParameters(bundle, issues));
  });

  router.post('/QuestionnaireResponse/\\$re-evaluate', async (req, res) => {
    if (req.body instanceof Uint8Array) {
      // Read as bytes (negotiation.ts rawJsonBody, only without an upstream): the worker parses and
      // checks them as reEvaluateInput does here, evaluates, and answers the serialised Bundle.
      const { json, entries, warnings } = await ctx.tasks
        .run(
          {
            op: 're-evaluate-body',
            body: ownedBytes(req.body),
            auth: req.auth && { scopes: req.auth.scopes, patient: req.auth.patient },
            inlineDefinitions: ctx.config.inlineDefinitions === true,
            pretty: req.pretty === true,
          },
          whenClientGone(res)
        )
        .catch((err: unknown) => {
          if (isBodyNotJson(err)) {
            // As when the JSON parser refuses the body: before any route, so the log names none.
            req.route = undefined;
          }
          throw err;
        });
      req.logFields = { entries, warnings };
      sendFhirJson(res, 200, json);
      return;
    }
    const { submitted, options } = reEvaluateInput(req.body, req, ctx);
    const upstream = ctx.upstream;
    if (!upstream) {
      // The Bundle is the answer as is: the worker serialises it, and this thread only sends the bytes.
      const { json, entries, warnings } = await ctx.tasks.run(
        { op: 're-evaluate', response: submitted, options, encode: { pretty: req.pretty === true } },
        whenClientGone(res)
      );
      req.logFields = { entries, warnings };
      sendFhirJson(res, 200, json);
      return;
    }
    const context = upstreamCallContext(req, ctx.config);
    const evaluate = async (response: QuestionnaireResponse, previous?: PreviousWrites): Promise<Bundle> => {
      const { bundle, issues } = await ctx.tasks.run(
        { op: 're-evaluate', response, options: { ...options, previous } },
        whenClientGone(res)
      );
      req.logFields = {
        entries: bundle.entry?.length ?? 0,
        warnings: issues.filter((i) => i.severity === 'warning').length,
      };
      return bundle;
    };
    // Upstream mode: evaluate the stored response, bound to the token's patient, and write. The stored
    // copy is read and checked before queueing, so a request for another patient's response never waits
    // in (or fills) that response's queue.
    const response = await storedResponse(upstream, submitted, context);
    authorize(req, [RESPONSE_NEED, ...WRITE_NEEDS], subjectOf(response));
    const write = async (): Promise<Bundle> => {
      // What earlier evaluations of this response wrote is closed where it no longer applies.
      const bundle = await evaluate(response, await previousUpstreamWrites(upstream, response, context));
      // Nothing to write: no call (servers such as Medplum refuse an empty transaction), and the
      // answer an empty transaction would get.
      return bundle.entry === undefined
        ? { resourceType: 'Bundle', type: 'transaction-response' }
        : upstream.transaction(bundle, context);
    };
    // One instance never races itself: submissions of the same response run one after another.
    try {
      sendResource(req, res, 200, await ctx.lock.run(response.id!, write));
    } catch (error) {
      if (error instanceof QueueFull) {
        throw httpError(
          429,
          'throttled',
          'Too many submissions of this response are already queued; retry later',
          { 'Retry-After': '1' }
        );
      }
      throw error;
    }
  });

  for (const op of ['$validate', '$extract', '$re-evaluate']) {
    router.all(`/QuestionnaireResponse/\\${op}`, methodNotAllowed(['POST']));
  }

  return {
    router,
    served: [
      {
        type: 'QuestionnaireResponse',
        supportedProfiles: [PROFILE.questionnaireResponse],
        documentation: 'QuestionnaireResponses are processed, never stored, by this server.',
        operations: [
          { name: 'validate', definition: R4_VALIDATE },
          { name: 'extract', definition: SDC_EXTRACT },
          { name: 're-evaluate', definition: RE_EVALUATE },
        ],
      },
    ],
  };
}
