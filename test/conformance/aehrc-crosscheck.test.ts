/**
 * Cross-check of the Questionnaire's extraction templates with an independent SDC template
 * extractor, @aehrc/sdc-template-extract 1.0.16: on the four shipped examples it must produce the
 * same Conditions and Observations as ours (same resources, codes, statuses and values), except
 * where a limitation of that library, documented below, explains the difference. This shows that
 * the content is standard SDC, not tailored to our engine.
 */
import type { Bundle, BundleEntry, Questionnaire, QuestionnaireResponse, Resource } from '@medplum/fhirtypes';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SDC_EXTENSION } from '../../src/core/constants';
import { extractResources } from '../../src/core/extract/extract';
import { calculateResponse } from '../../src/core/response';
import { counterIds, fixedClock } from '../helpers/ids';

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
const EXAMPLES = join(__dirname, '../../profiles/examples');

/**
 * The documented limitations of @aehrc/sdc-template-extract 1.0.16 that explain every difference
 * this test accepts. Each was reproduced in isolation before being listed.
 */
const LIMITATIONS = {
  /** A templateExtractContext on an element with no templateExtractValue below it drops the element even when the context matches. */
  staticContextedElementDropped: 'static element under a matching templateExtractContext is dropped',
  /** A templateExtractValue inside a context replaces its whole object: static siblings (e.g. `system`) are lost. */
  staticSiblingOfValueDropped: 'static sibling of a templated primitive inside a context is dropped',
  /** A complex value (a Reference with reference and display) keeps only its last property. */
  complexValueTruncated: 'complex templateExtractValue result keeps only its last property',
  /** extractAllocateId values lack the `urn:uuid:` prefix SDC specifies. */
  allocatedIdWithoutPrefix: 'extractAllocateId value lacks the urn:uuid: prefix',
  /** The ifNoneExist (and other request) sub-extensions are ignored: every entry is a plain POST. */
  requestSubExtensionsIgnored: 'ifNoneExist and the other request sub-extensions are ignored',
} as const;

/** Codings the templates include conditionally (a context on a static Coding): limitation 1. */
function contextedStaticCodings(): Set<string> {
  const found = new Set<string>();
  for (const template of questionnaire.contained ?? []) {
    const code = (template as { code?: { coding?: Record<string, unknown>[] } }).code;
    for (const coding of code?.coding ?? []) {
      const extensions = (coding.extension as { url: string }[] | undefined) ?? [];
      if (extensions.some((e) => e.url === SDC_EXTENSION.templateExtractContext) && coding.code) {
        found.add(`${String(coding.system)}|${String(coding.code)}`);
      }
    }
  }
  return found;
}

interface Projection {
  resourceType: string;
  identifier?: string;
  rule?: string;
  status?: string;
  verificationStatus?: string;
  clinicalStatus?: string;
  categories: string[];
  codes: string[];
  subject?: string;
  value?: unknown;
  effective?: string;
  recordedDate?: string;
  onset?: string;
  interpretation: string[];
  referenceRangeLow?: number;
  /** Evidence: item codes (by code: limitation 2) and what each detail points at (resolved: limitation 4). */
  evidence: string[];
}

/** The clinical content of an extracted resource, with references resolved to the identifiers they point at. */
function project(entry: BundleEntry, bundle: Bundle): Projection {
  // Extracted resources of several types are read loosely here, on purpose.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const r = entry.resource as Record<string, any>;
  const byFullUrl = new Map<string, Resource>();
  for (const e of bundle.entry ?? []) {
    byFullUrl.set(String(e.fullUrl).replace('urn:uuid:', ''), e.resource as Resource);
  }
  const target = (reference: string): string => {
    const resource = byFullUrl.get(reference.replace('urn:uuid:', '')) as
      { identifier?: { value?: string }[] } | undefined;
    return resource?.identifier?.[0]?.value ?? reference;
  };
  const codesOf = (cc: { coding?: { system?: string; code?: string }[] } | undefined): string[] =>
    (cc?.coding ?? []).map((c) => `${c.system}|${c.code}`).sort();
  return {
    resourceType: r.resourceType,
    identifier: r.identifier?.[0]?.value,
    rule: r.extension?.find((e: { url: string }) => e.url.endsWith('/re-rule'))?.valueCoding?.code,
    status: r.status,
    verificationStatus: r.verificationStatus?.coding?.[0]?.code,
    clinicalStatus: r.clinicalStatus?.coding?.[0]?.code,
    categories: (r.category ?? []).flatMap(codesOf).sort(),
    codes: codesOf(r.code),
    subject: r.subject?.reference,
    value: r.valueQuantity
      ? { value: r.valueQuantity.value, code: r.valueQuantity.code }
      : (r.valueBoolean ??
        r.valueInteger ??
        (r.valueCodeableConcept ? codesOf(r.valueCodeableConcept) : undefined)),
    effective: r.effectiveDateTime,
    recordedDate: r.recordedDate,
    onset: r.onsetDateTime,
    interpretation: (r.interpretation ?? []).flatMap(codesOf).sort(),
    referenceRangeLow: r.referenceRange?.[0]?.low?.value,
    evidence: (r.evidence ?? [])
      .map(
        (ev: { code?: { coding?: { code?: string }[] }[]; detail?: { reference?: string }[] }) =>
          `${(ev.code ?? [])
            .flatMap((c) => c.coding ?? [])
            .map((c) => c.code)
            .join(',')} -> ${(ev.detail ?? []).map((d) => target(String(d.reference))).join(',')}`
      )
      .sort(),
  };
}

const examples = readdirSync(EXAMPLES).sort();

describe('the extraction templates under an independent SDC extractor (@aehrc/sdc-template-extract)', () => {
  const conditional = contextedStaticCodings();

  test.each(examples)(
    '%s: the same Conditions and Observations, differences explained only by documented limitations',
    async (file) => {
      const response = JSON.parse(readFileSync(join(EXAMPLES, file), 'utf8')) as QuestionnaireResponse;
      // Both extractors take the response as an SDC form filler submits it: with calculated items computed.
      const completed = calculateResponse(response, questionnaire, { clock: fixedClock() }).response;
      const ours = extractResources(questionnaire, completed, { newId: counterIds() }).bundle;
      const result = await aehrc.inAppExtract(structuredClone(completed), structuredClone(questionnaire));
      expect(result.extractSuccess).toBe(true);
      const theirs = result.extractResult.extractedBundle!;

      const key = (e: BundleEntry): string =>
        `${e.resource?.resourceType}:${(e.resource as { identifier?: { value?: string }[] }).identifier?.[0]?.value}`;
      // The same resources: one per fired template, identified alike.
      expect((theirs.entry ?? []).map(key).sort()).toEqual((ours.entry ?? []).map(key).sort());
      // Limitation 5: every entry of theirs is a plain create.
      expect((theirs.entry ?? []).every((e) => e.request?.method === 'POST' && !e.request.ifNoneExist)).toBe(
        true
      );
      expect((ours.entry ?? []).every((e) => e.request?.ifNoneExist?.startsWith('identifier='))).toBe(true);

      for (const entry of ours.entry ?? []) {
        const mine = project(entry, ours);
        const other = project(
          (theirs.entry ?? []).find((e) => key(e) === key(entry))!,
          theirs
        );
        // Limitation 1: the conditionally included static codings are missing from theirs, and only they.
        expect(other.codes).toEqual(mine.codes.filter((c) => !conditional.has(c)));
        // Limitation 2: evidence codes compare by code; limitation 4 is absorbed by resolving references.
        expect({ ...other, codes: [] }).toEqual({ ...mine, codes: [] });
        // Limitation 3: a templated Reference (recorder, performer) keeps only its display in theirs.
        const r = entry.resource as { recorder?: { display?: string }; performer?: { display?: string }[] };
        const t = (theirs.entry ?? []).find((e) => key(e) === key(entry))!.resource as typeof r;
        if (r.recorder) {
          expect(t.recorder).toEqual({ display: r.recorder.display });
        }
        if (r.performer) {
          expect(t.performer).toEqual(r.performer.map((p) => ({ display: p.display })));
        }
      }
    }
  );

  test('every accepted difference is a documented limitation', () => {
    expect(Object.keys(LIMITATIONS)).toHaveLength(5);
    expect(conditional.size).toBeGreaterThan(0);
  });
});
