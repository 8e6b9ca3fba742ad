import type { Request, RequestHandler } from 'express';
import { Router } from 'express';
import type { Bundle, CodeableConcept, PlanDefinition } from '@medplum/fhirtypes';
import { CANONICAL_BASE } from '../../core/constants';
import { authorize, readNeed } from '../auth/scopes';
import type { AppContext, Routes } from '../context';
import { httpError, methodNotAllowed } from '../errors';
import { inlineDefinition } from '../inline-definitions';
import { hasBody, OperationInput } from '../parameters';
import { whenClientGone } from '../pool/runner';
import type { Task } from '../pool/tasks';
import { sendResource } from '../send';

/** Our `$apply`: R4 parameters plus CPG `url`, `version`, `data` (profiles/OperationDefinition-re-plandefinition-apply.json). */
export const RE_APPLY = `${CANONICAL_BASE}/OperationDefinition/re-plandefinition-apply`;

const CONTEXT_PARAMS = ['subject', 'encounter', 'practitioner', 'organization', 'data'] as const;
const CONCEPT_PARAMS = ['userType', 'userLanguage', 'userTaskContext', 'setting', 'settingContext'] as const;
const INSTANCE_PARAMS = [...CONTEXT_PARAMS, ...CONCEPT_PARAMS];
const TYPE_PARAMS = [...INSTANCE_PARAMS, 'planDefinition', 'url', 'version'];

/** R4 declares these as strings, CPG as CodeableConcepts: accept both. */
function concept(params: OperationInput, name: string): CodeableConcept | undefined {
  if (!params.has(name)) {
    return undefined;
  }
  try {
    return params.codeableConcept(name);
  } catch {
    const text = params.string(name);
    return text === undefined ? undefined : { text };
  }
}

/**
 * `PlanDefinition/[id]/$apply` and `PlanDefinition/$apply` (R4, with the CPG `url`/`version`/`data`
 * inputs): applies a shipped PlanDefinition (by id or canonical) or one given in the body, for one
 * subject, and returns the CarePlan (R4's single `return`), its RequestGroup and requests contained.
 * Nothing is persisted.
 * See: https://hl7.org/fhir/R4/plandefinition-operation-apply.html
 * @param ctx - The app context.
 */
export function planDefinitionRoutes(ctx: AppContext): Routes {
  const router = Router();
  const { deps } = ctx;

  type Target = Extract<Task, { op: 'apply' }>['planDefinition'];

  /** A shipped PlanDefinition goes to the task by id or canonical (a worker has its own copy), another inline. */
  function target(req: Request, params: OperationInput): Target {
    if (req.params.id !== undefined) {
      const found = deps.registry.read<PlanDefinition>('PlanDefinition', req.params.id as string);
      if (!found) {
        throw httpError(404, 'not-found', `PlanDefinition/${req.params.id} is not known`);
      }
      return { id: req.params.id as string };
    }
    const given = inlineDefinition<PlanDefinition>(ctx, params, 'planDefinition', 'PlanDefinition');
    const url = params.string('url');
    const version = params.string('version');
    if ((given ? 1 : 0) + (url ? 1 : 0) !== 1) {
      throw httpError(400, 'required', 'Give exactly one of planDefinition or url');
    }
    if (given) {
      if (version !== undefined) {
        throw httpError(400, 'invalid', 'version goes with url, not with planDefinition');
      }
      return { inline: given }; // validated by applyOperation, which tells it from the registry's own copies
    }
    const canonical = version === undefined || url!.includes('|') ? url! : `${url}|${version}`;
    const found = deps.registry.resolve<PlanDefinition>(canonical, 'PlanDefinition');
    if (!found) {
      throw httpError(404, 'not-found', `PlanDefinition ${canonical} is not known`);
    }
    return { canonical };
  }

  const apply: RequestHandler = async (req, res) => {
    if (!hasBody(req.body)) {
      throw httpError(400, 'required', '$apply needs a Parameters body');
    }
    const params = OperationInput.fromParameters(
      req.body,
      req.params.id === undefined ? TYPE_PARAMS : INSTANCE_PARAMS
    );
    const subjects = params.references('subject');
    if (subjects.length === 0) {
      throw httpError(400, 'required', 'Parameter subject is required');
    }
    if (subjects.length > 1) {
      throw httpError(400, 'not-supported', 'One subject per call is supported');
    }
    const subject = subjects[0]!;
    authorize(req, [readNeed('PlanDefinition')], { subject });
    const planDefinition = target(req, params);
    const data = params.resource<Bundle>('data', 'Bundle');
    const applyParams = {
      subject,
      encounter: params.reference('encounter'),
      practitioner: params.reference('practitioner'),
      organization: params.reference('organization'),
      userType: concept(params, 'userType'),
      userLanguage: concept(params, 'userLanguage'),
      userTaskContext: concept(params, 'userTaskContext'),
      setting: concept(params, 'setting'),
      settingContext: concept(params, 'settingContext'),
    };
    // The data Bundle is checked (400 when not valid FHIR) in the task, before the plan runs.
    const carePlan = await ctx.tasks.run(
      { op: 'apply', planDefinition, params: applyParams, data },
      whenClientGone(res)
    );
    sendResource(req, res, 200, carePlan);
  };

  router.post('/PlanDefinition/\\$apply', apply);
  router.post('/PlanDefinition/:id/\\$apply', apply);
  router.all('/PlanDefinition/\\$apply', methodNotAllowed(['POST']));
  router.all('/PlanDefinition/:id/\\$apply', methodNotAllowed(['POST']));

  return {
    router,
    served: [{ type: 'PlanDefinition', operations: [{ name: 'apply', definition: RE_APPLY }] }],
  };
}
