import type { Request, RequestHandler } from 'express';
import { Router } from 'express';
import type { CodeSystem, ValueSet } from '@medplum/fhirtypes';
import type { TerminologyResult, ValidateCodeInput } from '../../core/terminology';
import { lookupParameters, validateCodeParameters } from '../../core/terminology';
import { authorize, readNeed } from '../auth/scopes';
import type { AppContext, Routes } from '../context';
import { failure, httpError, methodNotAllowed } from '../errors';
import { hasBody, OperationInput } from '../parameters';
import { whenClientGone } from '../pool/runner';
import { sendResource } from '../send';

const HL7 = 'http://hl7.org/fhir/OperationDefinition';

const EXPAND = ['url', 'valueSetVersion', 'valueSet', 'filter', 'count', 'offset'];
const VS_VALIDATE = [
  'url',
  'valueSetVersion',
  'valueSet',
  'code',
  'system',
  'systemVersion',
  'display',
  'coding',
  'codeableConcept',
  'abstract',
];
const CS_VALIDATE = [
  'url',
  'version',
  'codeSystem',
  'code',
  'display',
  'coding',
  'codeableConcept',
  'abstract',
];
const LOOKUP = ['system', 'code', 'version', 'coding', 'property'];

/** A shipped resource (instance level), a canonical, or a resource given in the body. */
type Target<T> = T | string | { readonly inline: T };

/** The operation input from the query (GET) or a Parameters body (POST). */
function input(req: Request, known: readonly string[]): OperationInput {
  if (req.method === 'GET') {
    return OperationInput.fromQuery(req.query, known);
  }
  if (!hasBody(req.body)) {
    throw httpError(400, 'required', 'POST needs a Parameters body');
  }
  return OperationInput.fromParameters(req.body, known);
}

function value<T>(result: TerminologyResult<T>): T {
  if (!result.ok) {
    throw failure(result.kind, result.issues);
  }
  return result.value;
}

/** A canonical from `url` (+ a separate version parameter), or the instance's own. */
function canonical(url: string | undefined, version: string | undefined): string | undefined {
  return url === undefined
    ? undefined
    : version === undefined || url.includes('|')
      ? url
      : `${url}|${version}`;
}

/**
 * Offline terminology over the shipped content: `ValueSet/$expand` (filter, count, offset),
 * `ValueSet/$validate-code`, `CodeSystem/$validate-code`, `CodeSystem/$lookup`; type level (by `url`,
 * or a resource in the POST body) and instance level (`ValueSet/{id}/$expand`), GET and POST.
 * See: https://hl7.org/fhir/R4/terminology-service.html
 * @param ctx - The app context.
 */
export function terminologyRoutes(ctx: AppContext): Routes {
  const router = Router();
  const { terminology } = ctx.deps;

  /**
   * The ValueSet an operation targets: the instance, a resource in the body (`inline`: it runs in the
   * pool, checked first), or `url`.
   */
  function valueSetOf(req: Request, params: OperationInput): Target<ValueSet> {
    if (req.params.id !== undefined) {
      const vs = ctx.deps.registry.read<ValueSet>('ValueSet', req.params.id as string);
      if (!vs) {
        throw httpError(404, 'not-found', `ValueSet/${req.params.id} is not known`);
      }
      if (params.has('url') || params.has('valueSet')) {
        throw httpError(400, 'invalid', 'At instance level, url and valueSet are not allowed');
      }
      return vs;
    }
    const given = params.resource<ValueSet>('valueSet', 'ValueSet');
    const url = canonical(params.string('url'), params.string('valueSetVersion'));
    if ((given ? 1 : 0) + (url ? 1 : 0) !== 1) {
      throw httpError(400, 'required', 'Give exactly one of url or valueSet');
    }
    return given ? { inline: given } : url!;
  }

  function codeSystemOf(req: Request, params: OperationInput): Target<CodeSystem> {
    if (req.params.id !== undefined) {
      const cs = ctx.deps.registry.read<CodeSystem>('CodeSystem', req.params.id as string);
      if (!cs) {
        throw httpError(404, 'not-found', `CodeSystem/${req.params.id} is not known`);
      }
      if (params.has('url') || params.has('codeSystem')) {
        throw httpError(400, 'invalid', 'At instance level, url and codeSystem are not allowed');
      }
      return cs;
    }
    const given = params.resource<CodeSystem>('codeSystem', 'CodeSystem');
    const url = canonical(params.string('url'), params.string('version'));
    if ((given ? 1 : 0) + (url ? 1 : 0) !== 1) {
      throw httpError(400, 'required', 'Give exactly one of url or codeSystem');
    }
    return given ? { inline: given } : url!;
  }

  function codeInput(params: OperationInput, versionParam: string): ValidateCodeInput {
    const code = params.string('code');
    const coding = params.coding('coding');
    const codeableConcept = params.codeableConcept('codeableConcept');
    if ((code ? 1 : 0) + (coding ? 1 : 0) + (codeableConcept ? 1 : 0) !== 1) {
      throw httpError(400, 'required', 'Give exactly one of code, coding or codeableConcept');
    }
    return {
      code,
      system: params.string('system'),
      version: params.string(versionParam),
      display: params.string('display'),
      coding,
      codeableConcept,
      abstract: params.boolean('abstract'),
    };
  }

  // Shipped content is indexed and quick: answered here. Content given inline costs CPU in its size: a task.
  const expand: RequestHandler = async (req, res) => {
    authorize(req, [readNeed('ValueSet')]);
    const params = input(req, EXPAND);
    const valueSet = valueSetOf(req, params);
    const options = {
      filter: params.string('filter'),
      count: params.integer('count'),
      offset: params.integer('offset'),
    };
    const result =
      typeof valueSet === 'object' && 'inline' in valueSet
        ? await ctx.tasks.run({ op: 'expand', valueSet: valueSet.inline, options }, whenClientGone(res))
        : terminology.expand(valueSet, { ...options, clock: ctx.deps.clock });
    sendResource(req, res, 200, value(result));
  };

  const validateValueSetCode: RequestHandler = async (req, res) => {
    authorize(req, [readNeed('ValueSet')]);
    const params = input(req, VS_VALIDATE);
    const valueSet = valueSetOf(req, params);
    const code = codeInput(params, 'systemVersion');
    const result =
      typeof valueSet === 'object' && 'inline' in valueSet
        ? await ctx.tasks.run(
            { op: 'validate-code', valueSet: valueSet.inline, input: code },
            whenClientGone(res)
          )
        : terminology.validateCode(valueSet, code);
    sendResource(req, res, 200, validateCodeParameters(value(result)));
  };

  const validateCodeSystemCode: RequestHandler = async (req, res) => {
    authorize(req, [readNeed('CodeSystem')]);
    const params = input(req, CS_VALIDATE);
    const target = codeSystemOf(req, params);
    const codeSystem = typeof target === 'object' && 'inline' in target ? target.inline : target;
    const codeInputValue = codeInput(params, 'version');
    const code = {
      ...codeInputValue,
      // The CodeSystem's own URL is the system of a bare code.
      system:
        codeInputValue.system ?? (typeof codeSystem === 'string' ? codeSystem.split('|')[0] : codeSystem.url),
    };
    const result =
      typeof target === 'object' && 'inline' in target
        ? await ctx.tasks.run(
            { op: 'validate-code-system', codeSystem: target.inline, input: code },
            whenClientGone(res)
          )
        : terminology.validateCodeInCodeSystem(codeSystem, code);
    sendResource(req, res, 200, validateCodeParameters(value(result)));
  };

  const lookup: RequestHandler = (req, res) => {
    authorize(req, [readNeed('CodeSystem')]);
    const params = input(req, LOOKUP);
    const properties = params.strings('property');
    const result = terminology.lookup({
      system: params.string('system'),
      code: params.string('code'),
      version: params.string('version'),
      coding: params.coding('coding'),
      ...(properties.length > 0 ? { properties } : {}),
    });
    sendResource(req, res, 200, lookupParameters(value(result)));
  };

  const routes: [string, RequestHandler][] = [
    ['/ValueSet/\\$expand', expand],
    ['/ValueSet/:id/\\$expand', expand],
    ['/ValueSet/\\$validate-code', validateValueSetCode],
    ['/ValueSet/:id/\\$validate-code', validateValueSetCode],
    ['/CodeSystem/\\$validate-code', validateCodeSystemCode],
    ['/CodeSystem/:id/\\$validate-code', validateCodeSystemCode],
    ['/CodeSystem/\\$lookup', lookup],
  ];
  for (const [path, handler] of routes) {
    router.get(path, handler);
    router.post(path, handler);
    router.all(path, methodNotAllowed(['GET', 'POST']));
  }

  return {
    router,
    served: [
      {
        type: 'ValueSet',
        operations: [
          { name: 'expand', definition: `${HL7}/ValueSet-expand` },
          { name: 'validate-code', definition: `${HL7}/ValueSet-validate-code` },
        ],
      },
      {
        type: 'CodeSystem',
        operations: [
          { name: 'lookup', definition: `${HL7}/CodeSystem-lookup` },
          { name: 'validate-code', definition: `${HL7}/CodeSystem-validate-code` },
        ],
      },
    ],
  };
}
