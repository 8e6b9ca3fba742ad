import type {
  ActivityDefinition,
  CarePlan,
  Extension,
  Goal,
  OperationOutcomeIssue,
  PlanDefinition,
  Questionnaire,
  Reference,
  RequestGroup,
  RequestGroupAction,
} from '@medplum/fhirtypes';
import type { FhirPathEnv } from '../fhirpath/fhirpath';
import { isTrue } from '../fhirpath/fhirpath';
import { issue } from '../outcomes';
import { instantiateActivity, keepAsOption, resolveDefinition } from './activity-definition';
import type { ActivityRequest } from './activity-definition';
import { applyDynamicValues } from './dynamic-values';
import { baseEnvironment, canonicalOf } from './environment';
import type { ApplyEnvironment } from './environment';
import { APPLICABILITY_BEHAVIOR_EXTENSION, copiedJson, definitionPlan, narrativeLine } from './action-plan';
import type { ActionPlan, DefinitionPlan } from './action-plan';
import { evaluateExpression, withVariableSpecs } from './expression';
import { ExpressionMemo } from './expression-memo';
import { actionList, carePlanNarrative, requestGroupNarrative } from './narrative';
import type { NarrativeItem } from './narrative';
import type {
  ActionTrace,
  ApplyDeps,
  ApplyOptions,
  ApplyParameters,
  AppliedPlan,
  ConditionTrace,
} from './types';
import { copyJson } from '../json';

export { APPLICABILITY_BEHAVIOR_EXTENSION };

const DEFAULT_MAX_DEPTH = 16;

/** The conditions of an untraced call: never read. */
const NO_CONDITIONS: readonly ConditionTrace[] = [];

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
  /** Whether the trace is kept ({@link ApplyOptions.trace}). */
  readonly tracing: boolean;
  readonly trace: Mutable<ActionTrace>[];
  readonly requests: (ActivityRequest & { id: string })[];
  /** Canonicals of the PlanDefinitions being applied, outermost first, to stop cycles. */
  readonly stack: string[];
  /** Results of variables and conditions, whose focus (`data`) this run never modifies. */
  readonly memo: ExpressionMemo;
  /** The plan of each applied RequestGroup action, whose `extension` is its plan's `copied`, copied. */
  readonly plans: Map<RequestGroupAction, ActionPlan>;
  /**
   * Set when a dynamic value wrote on a RequestGroup action: it may have changed any action's
   * extensions below it, so their JSON is no longer known from the plan.
   */
  touched: boolean;
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
  // A definition given by value is planned afresh unless the resolver hands out this very object.
  const plan = definitionPlan(
    definition,
    typeof planDefinition === 'string' || deps.resolve(canonicalOf(definition)) === definition
  );
  const environment = baseEnvironment(params);
  const now = deps.clock().toISOString();
  const carePlanId = deps.newId();
  const requestGroupId = deps.newId();
  const canonical = plan.canonical;
  const run: Run = {
    deps,
    params,
    environment,
    authoredOn: now,
    maxDepth: options.maxDepth ?? DEFAULT_MAX_DEPTH,
    requestExtensionUrls: options.requestExtensionUrls ?? [],
    requestIdentifier: options.requestIdentifier,
    issues: [],
    tracing: options.trace ?? true,
    trace: [],
    requests: [],
    stack: [canonical],
    memo: new ExpressionMemo(),
    plans: new Map(),
    touched: false,
  };
  const subject = { reference: params.subject } as Reference<never>;
  const encounter = params.encounter ? { encounter: { reference: params.encounter } } : {};
  const goals = buildGoals(definition, run, subject);
  const applied = applyPlan(run, definition, plan, 0);
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
  // One list for both narratives: the CarePlan shows the RequestGroup's actions.
  const list = actionList(items);
  requestGroup.text = requestGroupNarrative(requestGroup, title, items, list);

  const base = copyJson(options.carePlanBase ?? {});
  delete base.id;
  const extensions = carePlanExtensions(
    run,
    base.extension ?? [],
    actions,
    options.carePlanExtensionUrls ?? []
  );
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
  carePlan.text = carePlanNarrative(carePlan, items, list);

  return { carePlan, requestGroup, goals, requests: run.requests, issues: run.issues, trace: run.trace };
}

function applyPlan(
  run: Run,
  definition: PlanDefinition,
  plan: DefinitionPlan,
  depth: number
): AppliedAction[] {
  const env = withVariableSpecs(
    plan.variables,
    run.environment.data,
    run.environment.env,
    { planDefinition: definition },
    plan.where,
    run.issues,
    run.memo
  );
  return applyActions(run, plan, plan.actions, env, depth);
}

function applyActions(
  run: Run,
  plan: DefinitionPlan,
  actions: readonly ActionPlan[],
  env: FhirPathEnv,
  depth: number
): AppliedAction[] {
  const result: AppliedAction[] = [];
  for (const action of actions) {
    const applied = applyAction(run, plan, action, env, depth);
    if (applied) {
      result.push(applied);
    }
  }
  return result;
}

function applyAction(
  run: Run,
  plan: DefinitionPlan,
  actionPlan: ActionPlan,
  parentEnv: FhirPathEnv,
  depth: number
): AppliedAction | undefined {
  const { action, path, where } = actionPlan;
  const canonical = plan.canonical;
  // Copies of the action's extensions, shared by its trace and its RequestGroup action: without a
  // trace they are made only when the RequestGroup action is.
  let copied: Extension[] | undefined;
  const copies = (): Extension[] => (copied ??= actionPlan.copied.map((e) => copyJson(e)));
  let trace: Mutable<ActionTrace> | undefined;
  if (run.tracing) {
    trace = action.title
      ? {
          planDefinition: canonical,
          path,
          title: action.title,
          outcome: 'applied',
          conditions: [],
          extensions: copies(),
        }
      : { planDefinition: canonical, path, outcome: 'applied', conditions: [], extensions: copies() };
    run.trace.push(trace);
  }
  // The action's own environment (the parent's with %action and its variables) is made only when
  // something reads it: conditions that name neither %action nor a variable of the action give the
  // same results in the parent's, which holds the same focus and every other variable.
  let env = actionPlan.conditionsNeedOwnEnv ? actionEnv(run, actionPlan, parentEnv) : undefined;

  const check = checkApplicability(run, actionPlan, env ?? parentEnv);
  if (trace) {
    trace.conditions = check.conditions;
  }
  if (!check.applicable) {
    if (trace) {
      trace.outcome = check.failed ? 'error' : 'not-applicable';
    }
    return undefined;
  }
  const dynamic = Boolean(action.dynamicValue?.length);
  if (!env && actionPlan.children.length > 0) {
    env = actionEnv(run, actionPlan, parentEnv);
  }

  // Dynamic values may read and write the RequestGroup action, so with them it is made first, as the
  // R4 algorithm has it; without them it is made once the action is known to stay (a pruned action
  // needs none), with the same members in the same order.
  let rgAction = dynamic ? copyAction(actionPlan, copies()) : undefined;
  let resource: Reference | undefined;
  let subActions: RequestGroupAction[] | undefined;
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
        const stamped = copies().filter((e) => run.requestExtensionUrls.includes(e.url));
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
        resource = { reference: `urn:uuid:${id}` };
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
        const nestedDefinition = resolved as PlanDefinition;
        const nested = applyPlan(run, nestedDefinition, definitionPlan(nestedDefinition, true), depth + 1);
        run.stack.pop();
        if (nested.length > 0) {
          subActions = nested.map((n) => n.action);
          nestedItems.push(...nested.map((n) => n.item));
        }
      }
    } else if (resolved.resourceType === 'Questionnaire') {
      const questionnaire = resolved as Questionnaire;
      resource = {
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

  if (rgAction) {
    if (resource) {
      rgAction.resource = resource;
    }
    if (subActions) {
      rgAction.action = subActions;
    }
    if (!target) {
      run.touched = true;
    }
    const node = target?.node ?? rgAction;
    applyDynamicValues(
      action.dynamicValue,
      node,
      target?.base ?? 'RequestGroup.action',
      // An action without variables, conditions that need its environment or sub-actions gets it
      // here, focused on the target at once: one copy instead of two (see focusEnv).
      env ?? actionEnv(run, actionPlan, parentEnv, node),
      `${path}.dynamicValue`,
      where,
      run.issues
    );
  }
  if (target) {
    keepAsOption(target.node, where, `${path}.dynamicValue`, run.issues);
  }

  if (actionPlan.children.length > 0) {
    expectsContent = true;
    const children = applyActions(run, plan, actionPlan.children, env!, depth);
    if (children.length > 0) {
      if (rgAction) {
        rgAction.action = [...(rgAction.action ?? []), ...children.map((c) => c.action)];
      } else {
        subActions = [...(subActions ?? []), ...children.map((c) => c.action)];
      }
      nestedItems.push(...children.map((c) => c.item));
    }
  }

  const content = rgAction ? rgAction.resource || rgAction.action?.length : resource || subActions?.length;
  if (expectsContent && !content) {
    if (trace) {
      trace.outcome = 'pruned';
    }
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
  if (!rgAction) {
    rgAction = copyAction(actionPlan, copies());
    if (resource) {
      rgAction.resource = resource;
    }
    if (subActions) {
      rgAction.action = subActions;
    }
  }
  if (actionPlan.copied.length > 0) {
    run.plans.set(rgAction, actionPlan);
  }
  const { head, tail } = narrativeLine(actionPlan);
  return { action: rgAction, item: { head, resourceType, tail, children: nestedItems } };
}

/**
 * The environment of an action: its parent's, with `%action` and then the action's own variables.
 * `focus` is `%resource` (the `data` Bundle unless given); an action with variables takes the default,
 * their focus.
 */
function actionEnv(
  run: Run,
  actionPlan: ActionPlan,
  parentEnv: FhirPathEnv,
  focus: unknown = run.environment.data
): FhirPathEnv {
  return withVariableSpecs(
    actionPlan.variables,
    focus,
    parentEnv,
    { action: actionPlan.action },
    actionPlan.where,
    run.issues,
    run.memo
  );
}

function checkApplicability(
  run: Run,
  actionPlan: ActionPlan,
  env: FhirPathEnv
): { applicable: boolean; failed: boolean; conditions: readonly ConditionTrace[] } {
  const { conditions, path, where } = actionPlan;
  if (conditions.length === 0) {
    return { applicable: true, failed: false, conditions: [] };
  }
  const behavior = actionPlan.behaviorMode;
  if (behavior === 'invalid') {
    run.issues.push(
      issue(
        'warning',
        'code-invalid',
        `${where}: applicabilityBehavior ${JSON.stringify(actionPlan.behavior?.valueCode ?? '')} is not all|any; using all`,
        `${path}.extension`
      )
    );
  }
  // Without a trace, the conditions' results are not recorded.
  const traces: ConditionTrace[] | undefined = run.tracing ? [] : undefined;
  const unmet: string[] = [];
  const unmetTexts: string[] = [];
  let failed = false;
  for (const { expression, location, text, quoted } of conditions) {
    const result = evaluateExpression(expression, run.environment.data, env, location, where, run.memo);
    if (!result.ok) {
      run.issues.push(result.issue);
      failed = true;
      traces?.push({ expression: text, met: false });
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
      unmetTexts.push(quoted);
    }
    traces?.push({ expression: text, met, result: result.values });
  }
  if (failed) {
    return { applicable: false, failed, conditions: traces ?? NO_CONDITIONS };
  }
  const applicable = behavior === 'any' ? unmet.length < conditions.length : unmet.length === 0;
  if (!applicable) {
    run.issues.push(
      issue(
        'information',
        'informational',
        `${where}: not applicable; condition not met: ${unmetTexts.join('; ')}`,
        unmet
      )
    );
  }
  return { applicable, failed, conditions: traces ?? NO_CONDITIONS };
}

// The R4 algorithm copies the descriptive elements of the action; behaviours are kept so that a
// consumer knows which options are alternatives.
function copyAction(actionPlan: ActionPlan, extensions: Extension[]): RequestGroupAction {
  const result: RequestGroupAction = {};
  if (extensions.length > 0) {
    result.extension = extensions;
  }
  const action = actionPlan.action;
  for (const key of actionPlan.copiedKeys) {
    (result as Record<string, unknown>)[key] = copyJson(action[key]);
  }
  return result;
}

/**
 * The CarePlan's extensions: the base's, then copies of those of the applied actions whose url is
 * asked for, without repeats. Repeats are found among the actions' own extensions (equal JSON to
 * their copies) so that only those kept are copied; an action's extension untouched since it was
 * copied from its plan has its JSON from the plan.
 */
function carePlanExtensions(
  run: Run,
  base: readonly Extension[],
  actions: readonly RequestGroupAction[],
  urls: readonly string[]
): Extension[] {
  if (urls.length === 0) {
    return dedupe(base);
  }
  const found: Extension[] = [...base];
  const json: (string | undefined)[] = base.map(() => undefined);
  const visit = (list: readonly RequestGroupAction[] | undefined): void => {
    for (const action of list ?? []) {
      const plan = run.touched ? undefined : run.plans.get(action);
      const extensions = action.extension ?? [];
      for (let i = 0; i < extensions.length; i++) {
        const extension = extensions[i]!;
        if (urls.includes(extension.url)) {
          found.push(extension);
          json.push(plan ? copiedJson(plan, i) : undefined);
        }
      }
      visit(action.action);
    }
  };
  visit(actions);
  const kept = dedupe(found, json);
  // The base is the call's own copy; the actions' extensions are shared with the trace.
  const fromBase = new Set(base);
  return kept.map((extension) => (fromBase.has(extension) ? extension : copyJson(extension)));
}

/**
 * The extensions without repeats (equal JSON), first occurrences in order. Only extensions that share
 * a url and coded value are compared as JSON: equal JSON has equal strings there, so the others
 * cannot be repeats (the plan's rule extensions differ mostly by code).
 */
function dedupe(extensions: readonly Extension[], known?: readonly (string | undefined)[]): Extension[] {
  if (extensions.length < 2) {
    return [...extensions];
  }
  if (known && known.every((json) => json !== undefined)) {
    // Every JSON known: a repeat is an extension whose JSON was seen before.
    const seen = new Set<string>();
    return extensions.filter((_, index) => {
      const json = known[index]!;
      return seen.has(json) ? false : (seen.add(json), true);
    });
  }
  const kept = new Map<string, { extension: Extension; json?: string }[]>();
  return extensions.filter((extension, index) => {
    const code = extension.valueCoding?.code;
    const group =
      typeof extension.url === 'string' && typeof code === 'string' ? `${extension.url}|${code}` : '';
    const earlier = kept.get(group);
    if (!earlier) {
      kept.set(group, [{ extension, json: known?.[index] }]);
      return true;
    }
    const json = known?.[index] ?? JSON.stringify(extension);
    for (const other of earlier) {
      other.json ??= JSON.stringify(other.extension);
      if (other.json === json) {
        return false;
      }
    }
    earlier.push({ extension, json });
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
