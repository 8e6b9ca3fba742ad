import type { Extension, Questionnaire, QuestionnaireItem, Resource } from '@medplum/fhirtypes';
import { SDC_EXTENSION } from '../constants';
import { CompiledExpression } from './compiled-expression';

/**
 * What template extraction needs of a Questionnaire, read once per Questionnaire object instead of
 * per response: the contained templates by reference, and for the root and each item the extraction
 * sites (templateExtract, templateExtractBundle) in extension order, the `extractAllocateId` names and
 * the items below. Items whose subtree has neither sites nor allocated ids are left out: walking them
 * did nothing. Cached per object: the operations pass the registry's Questionnaires or interned
 * private copies of given ones (given-content.ts), which nobody changes.
 */
export interface ExtractionPlan {
  readonly templates: ReadonlyMap<string, TemplateRef>;
  readonly root: SitesAt;
  readonly items: readonly ItemPlan[];
}

/** A contained resource and where it is, for issues. */
export interface TemplateRef {
  readonly resource: Resource;
  readonly location: string;
}

/** What one element (the Questionnaire or an item) declares for extraction. */
export interface SitesAt {
  /** Names bound to a new `urn:uuid:` per scope, in extension order. */
  readonly allocate: readonly string[];
  readonly sites: readonly Site[];
}

export interface ItemPlan extends SitesAt {
  readonly item: QuestionnaireItem;
  readonly linkId: string | undefined;
  readonly location: string;
  readonly isGroup: boolean;
  readonly children: readonly ItemPlan[];
}

/** A templateExtract or templateExtractBundle extension, with its sub-extension expressions. */
export type Site = ResourceSite | BundleSite;

export interface ResourceSite {
  readonly kind: 'resource';
  readonly location: string;
  readonly template: string | undefined;
  /** The sub-extensions that are expressions (resourceId, fullUrl, the request fields), by url. */
  readonly expressions: ReadonlyMap<string, CompiledExpression>;
}

export interface BundleSite {
  readonly kind: 'bundle';
  readonly location: string;
  readonly template: string | undefined;
}

/** Sub-extensions of templateExtract read as FHIRPath strings. */
const EXPRESSION_URLS = ['resourceId', 'ifNoneMatch', 'ifModifiedSince', 'ifMatch', 'ifNoneExist', 'fullUrl'];

const plans = new WeakMap<Questionnaire, ExtractionPlan>();

/** The extraction plan of a Questionnaire (built on first use, then kept with the object). */
export function extractionPlan(questionnaire: Questionnaire): ExtractionPlan {
  let plan = plans.get(questionnaire);
  if (!plan) {
    plan = {
      templates: indexTemplates(questionnaire),
      root: sitesAt(questionnaire.extension, 'Questionnaire'),
      items: itemPlans(questionnaire.item ?? [], 'Questionnaire'),
    };
    plans.set(questionnaire, plan);
  }
  return plan;
}

function itemPlans(items: readonly QuestionnaireItem[], location: string): ItemPlan[] {
  const out: ItemPlan[] = [];
  items.forEach((item, index) => {
    const itemLocation = `${location}.item[${index}]`;
    const children = itemPlans(item.item ?? [], itemLocation);
    const own = sitesAt(item.extension, itemLocation);
    if (own.sites.length > 0 || own.allocate.length > 0 || children.length > 0) {
      out.push({
        ...own,
        item,
        linkId: item.linkId,
        location: itemLocation,
        isGroup: item.type === 'group',
        children,
      });
    }
  });
  return out;
}

function sitesAt(extensions: readonly Extension[] | undefined, location: string): SitesAt {
  const allocate: string[] = [];
  const sites: Site[] = [];
  (extensions ?? []).forEach((ext, i) => {
    const extLocation = `${location}.extension[${i}]`;
    if (ext.url === SDC_EXTENSION.extractAllocateId && ext.valueString) {
      allocate.push(ext.valueString);
    } else if (ext.url === SDC_EXTENSION.templateExtract) {
      const expressions = new Map<string, CompiledExpression>();
      for (const url of EXPRESSION_URLS) {
        const expression = ext.extension?.find((e) => e.url === url)?.valueString;
        if (expression) {
          expressions.set(url, new CompiledExpression(expression));
        }
      }
      sites.push({
        kind: 'resource',
        location: extLocation,
        template: ext.extension?.find((e) => e.url === 'template')?.valueReference?.reference,
        expressions,
      });
    } else if (ext.url === SDC_EXTENSION.templateExtractBundle) {
      sites.push({ kind: 'bundle', location: extLocation, template: ext.valueReference?.reference });
    }
  });
  return { allocate, sites };
}

function indexTemplates(questionnaire: Questionnaire): Map<string, TemplateRef> {
  const templates = new Map<string, TemplateRef>();
  (questionnaire.contained ?? []).forEach((resource, i) => {
    if (resource.id) {
      templates.set(`#${resource.id}`, { resource, location: `Questionnaire.contained[${i}]` });
    }
  });
  return templates;
}
