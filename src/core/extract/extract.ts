import type {
  Bundle,
  BundleEntry,
  BundleEntryRequest,
  OperationOutcomeIssue,
  Questionnaire,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
  Resource,
} from '@medplum/fhirtypes';
import type { FhirPathEnv } from '../fhirpath/fhirpath';
import { issue } from '../outcomes';
import type { IdGenerator } from '../types';
import { ExpressionMemo } from './expression-memo';
import { instantiate, instantiateWithoutId, type Instantiation, type TemplateScope } from './instantiate';
import { compileTemplate } from './template';
import type { BundleSite, ItemPlan, ResourceSite, Site, TemplateRef } from './extraction-plan';
import { extractionPlan } from './extraction-plan';

export interface ExtractOptions {
  /** Generates the UUIDs behind `extractAllocateId` variables and default `fullUrl`s. */
  readonly newId: IdGenerator;
}

export interface ExtractResult {
  /** A transaction Bundle with one entry per extracted resource, in Questionnaire order. */
  readonly bundle: Bundle;
  readonly issues: OperationOutcomeIssue[];
}

const REQUEST_FIELDS = ['ifNoneMatch', 'ifModifiedSince', 'ifMatch', 'ifNoneExist'] as const;

/**
 * SDC template-based extraction (`QuestionnaireResponse/$extract`): walks the Questionnaire alongside
 * the response and instantiates every `templateExtract` (root and items) and `templateExtractBundle`.
 * Pure: nothing is persisted. Expressions see `%resource` (the response), `%questionnaire`,
 * `%context`, `%qitem` (on items) and the `extractAllocateId` variables, as SDC prescribes; Questionnaire `variable`s are
 * not visible to extraction (their results reach the templates through calculated items).
 *
 * A templateExtract on a group makes one resource per group instance; on a question, one per answer,
 * with the item (narrowed to that answer) as context: the two SDC statements "a resource for each
 * answer" and "the context is the item" hold together.
 * See: https://hl7.org/fhir/uv/sdc/STU4/extraction.html#template-based-extraction
 */
export function extractResources(
  questionnaire: Questionnaire,
  response: QuestionnaireResponse,
  options: ExtractOptions
): ExtractResult {
  const issues: OperationOutcomeIssue[] = [];
  const entries: BundleEntry[] = [];
  const plan = extractionPlan(questionnaire);
  const extractor: Extractor = {
    templates: plan.templates,
    entries,
    issues,
    memo: new ExpressionMemo(),
    newId: options.newId,
  };

  // 1. Root: allocate ids once, then the root templates with the response as context.
  const env = allocateIds(
    plan.root.allocate,
    { resource: response, rootResource: response, questionnaire },
    options.newId
  );
  const rootScope: TemplateScope = { context: response, env };
  extractAt(extractor, plan.root.sites, rootScope);

  // 2. Items, depth first, once per matching response item instance.
  walkItems(extractor, plan.items, response.item ?? [], env);

  // Nothing extracted: no entry list, as FHIR arrays are never empty.
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    ...(entries.length > 0 ? { entry: entries } : {}),
  };
  return { bundle, issues };
}

interface Extractor extends Instantiation {
  readonly templates: ReadonlyMap<string, TemplateRef>;
  readonly entries: BundleEntry[];
  readonly newId: IdGenerator;
}

function walkItems(
  extractor: Extractor,
  plans: readonly ItemPlan[],
  rItems: readonly QuestionnaireResponseItem[],
  env: FhirPathEnv
): void {
  for (const plan of plans) {
    // With nothing allocated every instance sees `env` and the item: one site environment for all.
    let shared: FhirPathEnv | undefined;
    for (const instance of rItems) {
      if (instance.linkId !== plan.linkId) {
        continue;
      }
      // A group instance is one scope; a question yields one scope per answer, narrowed to that
      // answer (visited here in turn, without a list of scopes per instance).
      const answers = instance.answer ?? [];
      if (plan.isGroup || answers.length === 0) {
        shared = visitScope(extractor, plan, instance, instance.item ?? [], env, shared);
      } else if (answers.length === 1) {
        shared = visitScope(extractor, plan, instance, answers[0]!.item ?? [], env, shared);
      } else {
        for (const answer of answers) {
          shared = visitScope(
            extractor,
            plan,
            { ...instance, answer: [answer] },
            answer.item ?? [],
            env,
            shared
          );
        }
      }
    }
  }
}

/**
 * Extracts one scope of an item and walks its children. Returns the site environment the instances
 * of an item that allocates nothing share (made on first use), to be passed to the next instance.
 */
function visitScope(
  extractor: Extractor,
  plan: ItemPlan,
  context: QuestionnaireResponseItem,
  children: readonly QuestionnaireResponseItem[],
  env: FhirPathEnv,
  shared: FhirPathEnv | undefined
): FhirPathEnv | undefined {
  // A new id per group instance, or per answer of a question (each yields its own resource).
  const itemEnv = allocateIds(plan.allocate, env, extractor.newId);
  if (plan.sites.length > 0) {
    const siteEnv =
      plan.allocate.length === 0
        ? (shared ??= { ...env, qitem: plan.item })
        : { ...itemEnv, qitem: plan.item };
    extractAt(extractor, plan.sites, { context, base: 'QuestionnaireResponse.item', env: siteEnv });
  }
  if (plan.children.length > 0) {
    walkItems(extractor, plan.children, children, itemEnv);
  }
  return shared;
}

function extractAt(extractor: Extractor, sites: readonly Site[], scope: TemplateScope): void {
  for (const site of sites) {
    if (site.kind === 'resource') {
      extractResource(extractor, site, scope);
    } else {
      extractBundle(extractor, site, scope);
    }
  }
}

function extractResource(extractor: Extractor, site: ResourceSite, scope: TemplateScope): void {
  const template = findTemplate(extractor, site.template, site.location);
  if (!template) {
    return;
  }
  const node = compileTemplate(template.resource, template.location);
  // Without a resourceId expression the template's own id is always dropped: not set at all.
  const produce = site.expressions.has('resourceId') ? instantiate : instantiateWithoutId;
  for (const produced of produce(node, scope, extractor)) {
    let resource = produced as Resource;
    const resourceId = evaluateString(site, 'resourceId', scope, extractor);
    if (resourceId) {
      resource.id = resourceId;
    } else if (Object.hasOwn(resource, 'id')) {
      resource = withoutId(resource);
    }
    const request: BundleEntryRequest = {
      method: resourceId ? 'PUT' : 'POST',
      url: resourceId ? `${resource.resourceType}/${resourceId}` : resource.resourceType,
    };
    for (const field of REQUEST_FIELDS) {
      const value = evaluateString(site, field, scope, extractor);
      if (value) {
        request[field] = value;
      }
    }
    const fullUrl = evaluateString(site, 'fullUrl', scope, extractor) ?? `urn:uuid:${extractor.newId()}`;
    extractor.entries.push({ fullUrl, resource, request });
  }
}

function extractBundle(extractor: Extractor, site: BundleSite, scope: TemplateScope): void {
  const template = findTemplate(extractor, site.template, site.location);
  if (!template) {
    return;
  }
  if (template.resource.resourceType !== 'Bundle') {
    extractor.issues.push(
      issue('error', 'invalid', `templateExtractBundle must reference a contained Bundle`, site.location)
    );
    return;
  }
  const node = compileTemplate(template.resource, template.location);
  for (const produced of instantiate(node, scope, extractor)) {
    for (const entry of (produced as Bundle).entry ?? []) {
      extractor.entries.push({ ...entry, fullUrl: entry.fullUrl ?? `urn:uuid:${extractor.newId()}` });
    }
  }
}

function findTemplate(
  extractor: Extractor,
  reference: string | undefined,
  location: string
): TemplateRef | undefined {
  const template = reference ? extractor.templates.get(reference) : undefined;
  if (!template) {
    extractor.issues.push(
      issue(
        'error',
        'not-found',
        `Template ${JSON.stringify(reference ?? '')} is not a contained resource of the Questionnaire`,
        location
      )
    );
  }
  return template;
}

/** Binds each `extractAllocateId` name of an element to a new `urn:uuid:` for this scope and its descendants. */
function allocateIds(names: readonly string[], env: FhirPathEnv, newId: IdGenerator): FhirPathEnv {
  if (names.length === 0) {
    return env;
  }
  const result = { ...env };
  for (const name of names) {
    result[name] = `urn:uuid:${newId()}`;
  }
  return result;
}

/**
 * The resource without its `id`, the other members in order (what `delete` left, without turning the
 * object into a slow dictionary-mode one). A `__proto__` member stays an own property, as copyJson keeps it.
 */
function withoutId(resource: Resource): Resource {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(resource)) {
    if (key === 'id') {
      continue;
    }
    const value = (resource as unknown as Record<string, unknown>)[key];
    if (key === '__proto__') {
      Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    } else {
      out[key] = value;
    }
  }
  return out as unknown as Resource;
}

function evaluateString(
  site: ResourceSite,
  url: string,
  scope: TemplateScope,
  run: Instantiation
): string | undefined {
  const expression = site.expressions.get(url);
  if (!expression) {
    return undefined;
  }
  try {
    const [first] = run.memo.evaluate(expression, 'plain', scope.base, scope.context, scope.env);
    return first === undefined || first === null ? undefined : String(first);
  } catch (err) {
    run.issues.push(
      issue(
        'error',
        'processing',
        err instanceof Error ? err.message : String(err),
        `${site.location}.extension(${url})`
      )
    );
    return undefined;
  }
}
