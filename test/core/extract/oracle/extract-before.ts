/**
 * The template extractor as it was before the extraction plan and the kept compiled expressions
 * (commit a0f1cd8), kept only as the oracle of test/core/extract/plan-differential.test.ts.
 */
import type {
  Bundle,
  BundleEntry,
  BundleEntryRequest,
  Extension,
  OperationOutcomeIssue,
  Questionnaire,
  QuestionnaireItem,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
  Resource,
} from '@medplum/fhirtypes';
import { SDC_EXTENSION } from '../../../../src/core/constants';
import type { FhirPathEnv } from '../../../../src/core/fhirpath/fhirpath';
import { compileFhirPath } from '../../../../src/core/fhirpath/fhirpath';
import { issue } from '../../../../src/core/outcomes';
import type { IdGenerator } from '../../../../src/core/types';
import { instantiate, type TemplateScope } from './instantiate-before';
import { compileTemplate } from '../../../../src/core/extract/template';

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
  const templates = indexTemplates(questionnaire);
  const extractor = { questionnaire, templates, entries, issues, newId: options.newId };

  // 1. Root: allocate ids once, then the root templates with the response as context.
  const env = allocateIds(
    questionnaire.extension,
    { resource: response, rootResource: response, questionnaire },
    options.newId
  );
  const rootScope: TemplateScope = { context: response, env };
  extractFrom(extractor, questionnaire.extension, 'Questionnaire', rootScope);

  // 2. Items, depth first, once per matching response item instance.
  walkItems(extractor, questionnaire.item ?? [], response.item ?? [], env, 'Questionnaire');

  // Nothing extracted: no entry list, as FHIR arrays are never empty.
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    ...(entries.length > 0 ? { entry: entries } : {}),
  };
  return { bundle, issues };
}

interface Extractor {
  readonly questionnaire: Questionnaire;
  readonly templates: Map<string, { resource: Resource; location: string }>;
  readonly entries: BundleEntry[];
  readonly issues: OperationOutcomeIssue[];
  readonly newId: IdGenerator;
}

function walkItems(
  extractor: Extractor,
  qItems: readonly QuestionnaireItem[],
  rItems: readonly QuestionnaireResponseItem[],
  env: FhirPathEnv,
  location: string
): void {
  qItems.forEach((qItem, index) => {
    const itemLocation = `${location}.item[${index}]`;
    for (const instance of rItems.filter((r) => r.linkId === qItem.linkId)) {
      for (const { context, children } of scopesOf(qItem, instance)) {
        // A new id per group instance, or per answer of a question (each yields its own resource).
        const itemEnv = allocateIds(qItem.extension, env, extractor.newId);
        extractFrom(extractor, qItem.extension, itemLocation, {
          context,
          base: 'QuestionnaireResponse.item',
          env: { ...itemEnv, qitem: qItem },
        });
        walkItems(extractor, qItem.item ?? [], children, itemEnv, itemLocation);
      }
    }
  });
}

/** A group instance is one scope; a question yields one scope per answer, narrowed to that answer. */
function scopesOf(
  qItem: QuestionnaireItem,
  instance: QuestionnaireResponseItem
): { context: QuestionnaireResponseItem; children: QuestionnaireResponseItem[] }[] {
  const answers = instance.answer ?? [];
  if (qItem.type === 'group' || answers.length === 0) {
    return [{ context: instance, children: instance.item ?? [] }];
  }
  if (answers.length === 1) {
    return [{ context: instance, children: answers[0]!.item ?? [] }];
  }
  return answers.map((answer) => ({
    context: { ...instance, answer: [answer] },
    children: answer.item ?? [],
  }));
}

function extractFrom(
  extractor: Extractor,
  extensions: readonly Extension[] | undefined,
  location: string,
  scope: TemplateScope
): void {
  (extensions ?? []).forEach((ext, i) => {
    const extLocation = `${location}.extension[${i}]`;
    if (ext.url === SDC_EXTENSION.templateExtract) {
      extractResource(extractor, ext, extLocation, scope);
    } else if (ext.url === SDC_EXTENSION.templateExtractBundle) {
      extractBundle(extractor, ext.valueReference?.reference, extLocation, scope);
    }
  });
}

function extractResource(extractor: Extractor, ext: Extension, location: string, scope: TemplateScope): void {
  const template = findTemplate(
    extractor,
    subExtension(ext, 'template')?.valueReference?.reference,
    location
  );
  if (!template) {
    return;
  }
  const node = compileTemplate(template.resource, template.location);
  for (const produced of instantiate(node, scope, extractor.issues)) {
    const resource = produced as Resource;
    const resourceId = evaluateString(ext, 'resourceId', location, scope, extractor.issues);
    if (resourceId) {
      resource.id = resourceId;
    } else {
      delete resource.id;
    }
    const request: BundleEntryRequest = {
      method: resourceId ? 'PUT' : 'POST',
      url: resourceId ? `${resource.resourceType}/${resourceId}` : resource.resourceType,
    };
    for (const field of REQUEST_FIELDS) {
      const value = evaluateString(ext, field, location, scope, extractor.issues);
      if (value) {
        request[field] = value;
      }
    }
    const fullUrl =
      evaluateString(ext, 'fullUrl', location, scope, extractor.issues) ?? `urn:uuid:${extractor.newId()}`;
    extractor.entries.push({ fullUrl, resource, request });
  }
}

function extractBundle(
  extractor: Extractor,
  reference: string | undefined,
  location: string,
  scope: TemplateScope
): void {
  const template = findTemplate(extractor, reference, location);
  if (!template) {
    return;
  }
  if (template.resource.resourceType !== 'Bundle') {
    extractor.issues.push(
      issue('error', 'invalid', `templateExtractBundle must reference a contained Bundle`, location)
    );
    return;
  }
  const node = compileTemplate(template.resource, template.location);
  for (const produced of instantiate(node, scope, extractor.issues)) {
    for (const entry of (produced as Bundle).entry ?? []) {
      extractor.entries.push({ ...entry, fullUrl: entry.fullUrl ?? `urn:uuid:${extractor.newId()}` });
    }
  }
}

function findTemplate(
  extractor: Extractor,
  reference: string | undefined,
  location: string
): { resource: Resource; location: string } | undefined {
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

function indexTemplates(questionnaire: Questionnaire): Map<string, { resource: Resource; location: string }> {
  const templates = new Map<string, { resource: Resource; location: string }>();
  (questionnaire.contained ?? []).forEach((resource, i) => {
    if (resource.id) {
      templates.set(`#${resource.id}`, { resource, location: `Questionnaire.contained[${i}]` });
    }
  });
  return templates;
}

/** Binds each `extractAllocateId` on an element to a new `urn:uuid:` for this scope and its descendants. */
function allocateIds(
  extensions: readonly Extension[] | undefined,
  env: FhirPathEnv,
  newId: IdGenerator
): FhirPathEnv {
  let result = env;
  for (const ext of extensions ?? []) {
    if (ext.url === SDC_EXTENSION.extractAllocateId && ext.valueString) {
      result = result === env ? { ...env } : result;
      result[ext.valueString] = `urn:uuid:${newId()}`;
    }
  }
  return result;
}

function subExtension(ext: Extension, url: string): Extension | undefined {
  return ext.extension?.find((e) => e.url === url);
}

function evaluateString(
  ext: Extension,
  url: string,
  location: string,
  scope: TemplateScope,
  issues: OperationOutcomeIssue[]
): string | undefined {
  const expression = subExtension(ext, url)?.valueString;
  if (!expression) {
    return undefined;
  }
  try {
    const [first] = compileFhirPath(expression, scope.base)(scope.context, scope.env);
    return first === undefined || first === null ? undefined : String(first);
  } catch (err) {
    issues.push(
      issue(
        'error',
        'processing',
        err instanceof Error ? err.message : String(err),
        `${location}.extension(${url})`
      )
    );
    return undefined;
  }
}
