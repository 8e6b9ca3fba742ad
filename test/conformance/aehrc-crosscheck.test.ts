/**
 * Cross-check of the Questionnaire's extraction templates with an independent SDC template
 * extractor, @aehrc/sdc-template-extract 1.0.16: on the calculated response of every golden
 * scenario it must produce exactly the resources ours does. Only request metadata may differ
 * (that library ignores the ifNoneExist sub-extension and allocates ids without `urn:uuid:`).
 * The templates keep to the portable subset of docs/authoring.md; this test is what holds them to it.
 */
import type { Bundle, BundleEntry, Questionnaire, QuestionnaireResponse } from '@medplum/fhirtypes';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SDC_EXTENSION } from '../../src/core/constants';
import { extractResources } from '../../src/core/extract/extract';
import { calculateResponse } from '../../src/core/response';
import { counterIds, fixedClock } from '../helpers/ids';
import { scenarios } from '../helpers/scenarios';

// The library's ESM entry cannot be imported (toolchain.md §6); its CommonJS build can.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const aehrc = require('@aehrc/sdc-template-extract') as {
  inAppExtract: (
    qr: QuestionnaireResponse,
    q: Questionnaire
  ) => Promise<{ extractSuccess: boolean; extractResult: { extractedBundle?: Bundle } }>;
};

const questionnaire = JSON.parse(
  readFileSync(join(__dirname, '../../profiles/Questionnaire-re-evaluation.json'), 'utf8')
) as Questionnaire;

/** The extraction key of an entry: its resource type and extraction identifier. */
function key(entry: BundleEntry): string {
  const resource = entry.resource as { resourceType: string; identifier?: { value?: string }[] };
  return `${resource.resourceType}:${resource.identifier?.[0]?.value}`;
}

/**
 * The resources of a Bundle by key, with every reference to another entry's fullUrl replaced by that
 * entry's key (the two extractors allocate different ids) and object keys sorted (order is not content).
 */
function resourcesByKey(bundle: Bundle): Map<string, unknown> {
  const byId = new Map<string, string>();
  for (const entry of bundle.entry ?? []) {
    byId.set(String(entry.fullUrl).replace(/^urn:uuid:/, ''), key(entry));
  }
  const normalise = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const target = byId.get(value.replace(/^urn:uuid:/, ''));
      return target ? `entry:${target}` : value;
    }
    if (Array.isArray(value)) {
      return value.map(normalise);
    }
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.keys(value)
          .sort()
          .map((k) => [k, normalise((value as Record<string, unknown>)[k])])
      );
    }
    return value;
  };
  return new Map((bundle.entry ?? []).map((e) => [key(e), normalise(e.resource)]));
}

describe('the extraction templates under an independent SDC extractor (@aehrc/sdc-template-extract)', () => {
  test.each(scenarios().map((s) => [s.name, s.response] as const))(
    '%s: exactly the same resources; only request metadata differs',
    async (_name, response) => {
      // Both extractors take the response as an SDC form filler submits it: with calculated items computed.
      const completed = calculateResponse(response, questionnaire, { clock: fixedClock() }).response;
      const ours = extractResources(questionnaire, completed, { newId: counterIds() }).bundle;
      const result = await aehrc.inAppExtract(structuredClone(completed), structuredClone(questionnaire));
      expect(result.extractSuccess).toBe(true);
      const theirs = result.extractResult.extractedBundle!;

      // Zero differences in resource content, compared whole.
      expect(resourcesByKey(theirs)).toEqual(resourcesByKey(ours));
      // The request metadata that may differ: theirs are plain creates, ours conditional ones.
      expect((theirs.entry ?? []).every((e) => e.request?.method === 'POST' && !e.request.ifNoneExist)).toBe(
        true
      );
      expect((ours.entry ?? []).every((e) => e.request?.ifNoneExist?.startsWith('identifier='))).toBe(true);
    }
  );

  test('the templates keep to the portable subset (docs/authoring.md)', () => {
    const problems: string[] = [];
    const visit = (node: unknown, path: string, inContext: boolean): void => {
      if (Array.isArray(node)) {
        node.forEach((child, i) => visit(child, `${path}[${i}]`, inContext));
        return;
      }
      if (!node || typeof node !== 'object') {
        return;
      }
      const obj = node as Record<string, unknown>;
      const extensions = (obj.extension as { url: string }[] | undefined) ?? [];
      const hasContext = extensions.some((e) => e.url === SDC_EXTENSION.templateExtractContext);
      const hasValue = extensions.some((e) => e.url === SDC_EXTENSION.templateExtractValue);
      // No complex value from one expression: a templateExtractValue sits only on a primitive's `_x`.
      if (hasValue && !path.split('.').pop()!.startsWith('_')) {
        problems.push(`${path}: complex templateExtractValue`);
      }
      // No static element under a context unless a value expression below it decides its content.
      if (hasContext && !JSON.stringify(obj).includes(SDC_EXTENSION.templateExtractValue)) {
        problems.push(`${path}: static element under templateExtractContext`);
      }
      // No value expression beside static siblings on an object inside a context.
      const statics = Object.keys(obj).filter((k) => k !== 'extension' && !k.startsWith('_'));
      const ownValues = Object.keys(obj).some((k) => k.startsWith('_'));
      if ((inContext || hasContext) && ownValues && statics.some((k) => typeof obj[k] !== 'object')) {
        problems.push(`${path}: templateExtractValue beside static ${statics.join(', ')} under a context`);
      }
      for (const [k, child] of Object.entries(obj)) {
        if (k !== 'extension') {
          visit(child, `${path}.${k}`, inContext || hasContext);
        }
      }
    };
    for (const template of questionnaire.contained ?? []) {
      visit(template, template.id ?? '?', false);
    }
    expect(problems).toEqual([]);
  });
});
