// The $apply of main before issue 13's apply work (a0f1cd8), frozen: the oracle of test/core/plan/apply-equivalence.test.ts.
// Do not change it to follow src/core/plan; it is what the new code must equal.
import type {
  ActivityDefinition,
  CarePlan,
  Extension,
  Goal,
  OperationOutcomeIssue,
  PlanDefinition,
  PlanDefinitionAction,
  Questionnaire,
  Reference,
  RequestGroup,
  RequestGroupAction,
} from '@medplum/fhirtypes';
import type { FhirPathEnv } from '../../../../src/core/fhirpath/fhirpath';
import { isTrue } from '../../../../src/core/fhirpath/fhirpath';
import { issue } from '../../../../src/core/outcomes';
import { instantiateActivity, keepAsOption, resolveDefinition } from './activity-definition';
import type { ActivityRequest } from './activity-definition';
import { applyDynamicValues } from './dynamic-values';
import { baseEnvironment, canonicalOf } from '../../../../src/core/plan/environment';
import type { ApplyEnvironment } from '../../../../src/core/plan/environment';
import { evaluateExpression, VARIABLE_EXTENSION, withVariables } from './expression';
import { ExpressionMemo } from '../../../../src/core/plan/expression-memo';
import { carePlanNarrative, requestGroupNarrative } from './narrative';
import type { NarrativeItem } from './narrative';
import type {
  ActionTrace,
  ApplyDeps,
  ApplyOptions,
  ApplyParameters,
  AppliedPlan,
  ConditionTrace,
} from '../../../../src/core/plan/types';
import { copyJson } from '../../../../src/core/json';

/** Extension that makes several applicability conditions combine with OR (`any`) instead of AND (`all`). */
export const APPLICABILITY_BEHAVIOR_EXTENSION =
  'http://hl7.org/fhir/StructureDefinition/cqf-applicabilityBehavior';

/** Extensions that steer processing; they are not copied to the RequestGroup action. */
const PROCESSING_EXTENSIONS = new Set([VARIABLE_EXTENSION, APPLICABILITY_BEHAVIOR_EXTENSION]);

const DEFAULT_MAX_DEPTH = 16;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface Run {
  readonly deps: ApplyDeps;
  readonly params: ApplyParameters;
  readonly environment: ApplyEnvironment;
  readonly authoredOn: string;
  readonly maxDepth: number;
  readonly requestExtensionUrls: readonly string[];
  readonly requestIdentifier?: ApplyOptions['requestIdentifier'];
  readonly issues: OperationOutcomeIssue[];
  readonly trace: Mutable<ActionTrace>[];
  readonly requests: (ActivityRequest & { id: string })[];
  /** Canonicals of the PlanDefinitions being applied, outermost first, to stop cycles. */
  readonly stack: string[];
  /** Results of variables and conditions, whose focus (`data`) this run never modifies. */
  readonly memo: ExpressionMemo;
}

interface AppliedAction {
  readonly action: RequestGroupAction;
  readonly item: NarrativeItem;
}

/**
 * R4 `PlanDefinition/$apply`. For each action, in order: its `variable` extensions are evaluated; its
 * `applicability` conditions (FHIRPath only) must all be true (or any, with `cqf-applicabilityBehavior`
 * = any); then its definition is applied (ActivityDefinition → a request with intent `option`;
 * PlanDefinition → applied recursively, its actions nested under this one; Questionnaire → referenced);
 * its dynamic values are evaluated against the request (or, without one, the RequestGroup action); its
 * sub-actions follow. An applicable action whose nested definition and sub-actions all yield nothing is
 * pruned. Unmet conditions are reported as information issues and in the trace; expression and content
 * errors are error issues; only an unknown PlanDefinition or a missing subject throws (ReFhirError).
 *
 * The result is neutral (see {@link AppliedPlan}); use `containedCarePlan` for the R4 single-resource
 * return or `liftedEntries` for a transaction Bundle. Output is deterministic given `deps.clock` and
 * `deps.newId`: ids are drawn for the CarePlan, the RequestGroup, the goals, then the requests in
 * document order.
 * See: https://hl7.org/fhir/R4/plandefinition-operation-apply.html,
 * https://hl7.org/fhir/R4/plandefinition.html#12.18.3.3
 * @param planDefinition - the definition, or its canonical (`url` or `url|version`)
 * @param params - the `$apply` parameters (subject required)
 * @param deps - canonical resolver, clock and id generator
 * @param options - CarePlan extensions to collect, CarePlan base elements, nesting limit
 */
export function applyPlanDefinition(
  planDefinition: PlanDefinition | string,
  params: ApplyParameters,
  deps: ApplyDeps,
  options: ApplyOptions = {}
): AppliedPlan {
  const definition = resolveDefinition<PlanDefinition>(planDefinition, 'PlanDefinition', deps);
  const environment = baseEnvironment(params);
  const now = deps.clock().toISOString();
  const carePlanId = deps.newId();
  const requestGroupId = deps.newId();
  const canonical = canonicalOf(definition);
  const run: Run = {
    deps,
    params,
    environment,
    authoredOn: now,
    maxDepth: options.maxDepth ?? DEFAULT_MAX_DEPTH,
    requestExtensionUrls: options.requestExtensionUrls ?? [],
    requestIdentifier: options.requestIdentifier,
    issues: [],
    trace: [],
    requests: [],
    stack: [canonical],
    memo: new ExpressionMemo(),
  };
  const subject = { reference: params.subject } as Reference<never>;
  const encounter = params.encounter ? { encounter: { reference: params.encounter } } : {};
  const goals = buildGoals(definition, run, subject);
  const applied = applyPlan(run, definition, 0);
  const actions = applied.map((a) => a.action);
  const items = applied.map((a) => a.item);
  const title = definition.title ?? definition.name ?? canonical;

  const requestGroup: RequestGroup & { id: string } = {
    resourceType: 'RequestGroup',
    id: requestGroupId,
    instantiatesCanonical: [canonical],
    status: 'draft',
    intent: 'proposal',
    subject,
    ...encounter,
    authoredOn: now,
    ...(params.practitioner ? { author: { reference: params.practitioner } as Reference<never> } : {}),
    ...(actions.length > 0 ? { action: actions } : {}),
  };
  requestGroup.text = requestGroupNarrative(requestGroup, title, items);

  const base = copyJson(options.carePlanBase ?? {});
  delete base.id;
  const extensions = dedupe([
    ...(base.extension ?? []),
    ...collectExtensions(actions, options.carePlanExtensionUrls ?? []),
  ]);
  const supportingInfo = params.supportingInfo ?? questionnaireResponseUrls(run);
  // resourceType and id lead, as in FHIR's own JSON; the caller's base elements follow.
  const carePlan: CarePlan & { id: string } = {
    resourceType: 'CarePlan',
    id: carePlanId,
    ...base,
    ...(extensions.length > 0 ? { extension: extensions } : {}),
    instantiatesCanonical: [canonical],
    status: 'draft',
    intent: 'proposal',
    title,
    ...(definition.description ? { description: definition.description } : {}),
    subject,
    ...encounter,
    created: now,
    ...(params.practitioner ? { author: { reference: params.practitioner } as Reference<never> } : {}),
    ...(params.addresses?.length ? { addresses: params.addresses.map((reference) => ({ reference })) } : {}),
    ...(supportingInfo.length > 0
      ? { supportingInfo: supportingInfo.map((reference) => ({ reference })) }
      : {}),
    ...(goals.length > 0 ? { goal: goals.map((g) => ({ reference: `urn:uuid:${g.id}` })) } : {}),
    activity: [{ reference: { reference: `urn:uuid:${requestGroupId}` } }],
  };
  if (extensions.length === 0) {
    delete carePlan.extension;
  }
  carePlan.text = carePlanNarrative(carePlan, items);

  return { carePlan, requestGroup, goals, requests: run.requests, issues: run.issues, trace: run.trace };
}

function applyPlan(run: Run, definition: PlanDefinition, depth: number): AppliedAction[] {
  const where = `PlanDefinition ${canonicalOf(definition)}`;
  const env = withVariables(
    definition.extension,
    run.environment.data,
    { ...run.environment.env, planDefinition: definition },
    'PlanDefinition',
    where,
    run.issues,
    run.memo
  );
  return applyActions(run, definition, definition.action, 'PlanDefinition.action', env, depth);
}

function applyActions(
  run: Run,
  definition: PlanDefinition,
  actions: readonly PlanDefinitionAction[] | undefined,
  basePath: string,
  env: FhirPathEnv,
  depth: number
): AppliedAction[] {
  const result: AppliedAction[] = [];
  (actions ?? []).forEach((action, i) => {
    const applied = applyAction(run, definition, action, `${basePath}[${i}]`, env, depth);
    if (applied) {
      result.push(applied);
    }
  });
  return result;
}

function applyAction(
  run: Run,
  definition: PlanDefinition,
  action: PlanDefinitionAction,
  path: string,
  parentEnv: FhirPathEnv,
  depth: number
): AppliedAction | undefined {
  const canonical = canonicalOf(definition);
  const where = `PlanDefinition ${canonical}, action ${JSON.stringify(action.title ?? action.id ?? path)}`;
  const copied = copiedExtensions(action.extension);
  const trace: Mutable<ActionTrace> = {
    planDefinition: canonical,
    path,
    ...(action.title ? { title: action.title } : {}),
    outcome: 'applied',
    conditions: [],
    extensions: copied,
  };
  run.trace.push(trace);
  const env = withVariables(
    action.extension,
    run.environment.data,
    { ...parentEnv, action },
    path,
    where,
    run.issues,
    run.memo
  );

  const check = checkApplicability(run, action, env, path, where);
  trace.conditions = check.conditions;
  if (!check.applicable) {
    trace.outcome = check.failed ? 'error' : 'not-applicable';
    return undefined;
  }

  const rgAction = copyAction(action, copied);
  let target: { node: ActivityRequest; base: string } | undefined;
  let resourceType: string | undefined;
  let expectsContent = false;
  const nestedItems: NarrativeItem[] = [];

  if (action.definitionCanonical) {
    const resolved = run.deps.resolve(action.definitionCanonical);
    if (!resolved) {
      run.issues.push(
        issue(
          'error',
          'not-found',
          `${where}: definition ${action.definitionCanonical} is not known`,
          `${path}.definitionCanonical`
        )
      );
    } else if (resolved.resourceType === 'ActivityDefinition') {
      const request = instantiateActivity(resolved as ActivityDefinition, {
        params: run.params,
        environment: run.environment,
        authoredOn: run.authoredOn,
        inRequestGroup: true,
        issues: run.issues,
      });
      if (request) {
        const stamped = copied.filter((e) => run.requestExtensionUrls.includes(e.url));
        if (stamped.length > 0) {
          request.extension = dedupe([...(request.extension ?? []), ...stamped.map((e) => copyJson(e))]);
        }
        const identifier = run.requestIdentifier?.({ planDefinition: canonical, path });
        if (identifier) {
          request.identifier = [...(request.identifier ?? []), identifier];
        }
        const id = run.deps.newId();
        const stored = Object.assign(request, { id });
        run.requests.push(stored);
        rgAction.resource = { reference: `urn:uuid:${id}` };
        target = { node: stored, base: stored.resourceType };
        resourceType = stored.resourceType;
      }
    } else if (resolved.resourceType === 'PlanDefinition') {
      expectsContent = true;
      const nestedCanonical = canonicalOf(resolved);
      if (run.stack.includes(nestedCanonical)) {
        run.issues.push(
          issue(
            'error',
            'processing',
            `${where}: ${nestedCanonical} includes itself; the cycle was cut`,
            `${path}.definitionCanonical`
          )
        );
      } else if (depth + 1 > run.maxDepth) {
        run.issues.push(
          issue(
            'error',
            'too-costly',
            `${where}: nesting deeper than ${run.maxDepth} PlanDefinitions`,
            `${path}.definitionCanonical`
          )
        );
      } else {
        run.stack.push(nestedCanonical);
        const nested = applyPlan(run, resolved as PlanDefinition, depth + 1);
        run.stack.pop();
        if (nested.length > 0) {
          rgAction.action = nested.map((n) => n.action);
          nestedItems.push(...nested.map((n) => n.item));
        }
      }
    } else if (resolved.resourceType === 'Questionnaire') {
      const questionnaire = resolved as Questionnaire;
      rgAction.resource = {
        reference: action.definitionCanonical,
        ...(questionnaire.title || questionnaire.name
          ? { display: questionnaire.title ?? questionnaire.name }
          : {}),
      };
      resourceType = 'Questionnaire';
    } else {
      run.issues.push(
        issue(
          'error',
          'not-supported',
          `${where}: a definition of type ${resolved.resourceType} cannot be applied`,
          `${path}.definitionCanonical`
        )
      );
    }
  } else if (action.definitionUri) {
    run.issues.push(
      issue(
        'error',
        'not-supported',
        `${where}: definitionUri is not resolvable; use definitionCanonical`,
        `${path}.definitionUri`
      )
    );
  }

  applyDynamicValues(
    action.dynamicValue,
    target?.node ?? rgAction,
    target?.base ?? 'RequestGroup.action',
    env,
    `${path}.dynamicValue`,
    where,
    run.issues
  );
  if (target) {
    keepAsOption(target.node, where, `${path}.dynamicValue`, run.issues);
  }

  if (action.action?.length) {
    expectsContent = true;
    const children = applyActions(run, definition, action.action, `${path}.action`, env, depth);
    if (children.length > 0) {
      rgAction.action = [...(rgAction.action ?? []), ...children.map((c) => c.action)];
      nestedItems.push(...children.map((c) => c.item));
    }
  }

  if (expectsContent && !rgAction.resource && !rgAction.action?.length) {
    trace.outcome = 'pruned';
    run.issues.push(
      issue(
        'information',
        'informational',
        `${where}: applicable, but nothing inside it applies; left out`,
        path
      )
    );
    return undefined;
  }
  return {
    action: rgAction,
    item: {
      label: [action.prefix, action.title ?? action.textEquivalent ?? action.code?.[0]?.text ?? 'Action']
        .filter((part): part is string => Boolean(part))
        .join(' '),
      ...(action.title && action.textEquivalent ? { textEquivalent: action.textEquivalent } : {}),
      ...(resourceType ? { resourceType } : {}),
      ...(action.selectionBehavior ? { selectionBehavior: action.selectionBehavior } : {}),
      optional: action.requiredBehavior === 'could',
      children: nestedItems,
    },
  };
}

function checkApplicability(
  run: Run,
  action: PlanDefinitionAction,
  env: FhirPathEnv,
  path: string,
  where: string
): { applicable: boolean; failed: boolean; conditions: ConditionTrace[] } {
  const conditions = (action.condition ?? [])
    .map((condition, index) => ({ condition, index }))
    .filter(({ condition }) => condition.kind === 'applicability');
  if (conditions.length === 0) {
    return { applicable: true, failed: false, conditions: [] };
  }
  const behaviorExtension = action.extension?.find((e) => e.url === APPLICABILITY_BEHAVIOR_EXTENSION);
  let behavior: 'all' | 'any' = 'all';
  if (behaviorExtension) {
    if (behaviorExtension.valueCode === 'any' || behaviorExtension.valueCode === 'all') {
      behavior = behaviorExtension.valueCode;
    } else {
      run.issues.push(
        issue(
          'warning',
          'code-invalid',
          `${where}: applicabilityBehavior ${JSON.stringify(behaviorExtension.valueCode ?? '')} is not all|any; using all`,
          `${path}.extension`
        )
      );
    }
  }
  const traces: ConditionTrace[] = [];
  const unmet: string[] = [];
  let failed = false;
  for (const { condition, index } of conditions) {
    const location = `${path}.condition[${index}].expression`;
    const text = condition.expression?.expression ?? '';
    const result = evaluateExpression(
      condition.expression,
      run.environment.data,
      env,
      location,
      where,
      run.memo
    );
    if (!result.ok) {
      run.issues.push(result.issue);
      failed = true;
      traces.push({ expression: text, met: false });
      continue;
    }
    const met = isTrue(result.values);
    if (!met && result.values.length > 0 && !(result.values.length === 1 && result.values[0] === false)) {
      run.issues.push(
        issue(
          'warning',
          'processing',
          `${where}: condition ${JSON.stringify(text)} gave ${JSON.stringify(result.values)}, not a single boolean; treated as not met`,
          location
        )
      );
    }
    if (!met) {
      unmet.push(location);
    }
    traces.push({ expression: text, met, result: result.values });
  }
  if (failed) {
    return { applicable: false, failed, conditions: traces };
  }
  const applicable = behavior === 'all' ? unmet.length === 0 : unmet.length < conditions.length;
  if (!applicable) {
    const texts = traces.filter((t) => !t.met).map((t) => JSON.stringify(t.expression));
    run.issues.push(
      issue(
        'information',
        'informational',
        `${where}: not applicable; condition not met: ${texts.join('; ')}`,
        unmet
      )
    );
  }
  return { applicable, failed, conditions: traces };
}

function copiedExtensions(extensions: readonly Extension[] | undefined): Extension[] {
  return (extensions ?? []).filter((e) => !PROCESSING_EXTENSIONS.has(e.url)).map((e) => copyJson(e));
}

// The R4 algorithm copies the descriptive elements of the action; behaviours are kept so that a
// consumer knows which options are alternatives.
function copyAction(action: PlanDefinitionAction, extensions: Extension[]): RequestGroupAction {
  const result: RequestGroupAction = {};
  if (extensions.length > 0) {
    result.extension = extensions;
  }
  const keys = [
    'prefix',
    'title',
    'description',
    'textEquivalent',
    'priority',
    'code',
    'documentation',
    'timingDateTime',
    'timingAge',
    'timingPeriod',
    'timingDuration',
    'timingRange',
    'timingTiming',
    'type',
    'groupingBehavior',
    'selectionBehavior',
    'requiredBehavior',
    'precheckBehavior',
    'cardinalityBehavior',
  ] as const;
  for (const key of keys) {
    if (action[key] !== undefined) {
      (result as Record<string, unknown>)[key] = copyJson(action[key]);
    }
  }
  return result;
}

function collectExtensions(actions: readonly RequestGroupAction[], urls: readonly string[]): Extension[] {
  if (urls.length === 0) {
    return [];
  }
  const found: Extension[] = [];
  const visit = (list: readonly RequestGroupAction[] | undefined): void => {
    for (const action of list ?? []) {
      for (const extension of action.extension ?? []) {
        if (urls.includes(extension.url)) {
          found.push(copyJson(extension));
        }
      }
      visit(action.action);
    }
  };
  visit(actions);
  return found;
}

function dedupe(extensions: readonly Extension[]): Extension[] {
  const seen = new Set<string>();
  return extensions.filter((extension) => {
    const key = JSON.stringify(extension);
    if (seen.has(key)) {
      return false;
    }
    seen.add(key);
    return true;
  });
}

function questionnaireResponseUrls(run: Run): string[] {
  return (run.environment.data.entry ?? [])
    .filter((entry) => entry.resource?.resourceType === 'QuestionnaireResponse' && entry.fullUrl)
    .map((entry) => entry.fullUrl!);
}

function buildGoals(
  definition: PlanDefinition,
  run: Run,
  subject: Reference<never>
): (Goal & { id: string })[] {
  return (definition.goal ?? []).map((goal) => {
    const target = (goal.target ?? []).map((t) => ({
      ...(t.measure ? { measure: copyJson(t.measure) } : {}),
      ...(t.detailQuantity ? { detailQuantity: copyJson(t.detailQuantity) } : {}),
      ...(t.detailRange ? { detailRange: copyJson(t.detailRange) } : {}),
      ...(t.detailCodeableConcept ? { detailCodeableConcept: copyJson(t.detailCodeableConcept) } : {}),
      ...(t.due ? { dueDuration: copyJson(t.due) } : {}),
    }));
    return {
      resourceType: 'Goal',
      id: run.deps.newId(),
      lifecycleStatus: 'proposed',
      ...(goal.category ? { category: [copyJson(goal.category)] } : {}),
      ...(goal.priority ? { priority: copyJson(goal.priority) } : {}),
      description: copyJson(goal.description),
      subject,
      ...(goal.start ? { startCodeableConcept: copyJson(goal.start) } : {}),
      ...(target.length > 0 ? { target } : {}),
    };
  });
}
