import type { Questionnaire, QuestionnaireItem, ValueSet } from '@medplum/fhirtypes';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { shippedTerminology } from '../../src/core/terminology';
import { SHIPPED_VALUE_SETS } from '../../src/web/shipped-value-sets';
import { storedExpansion } from '../../src/web/stored-expansions';

const questionnaire = JSON.parse(
  readFileSync(join(__dirname, '../../profiles/Questionnaire-re-evaluation.json'), 'utf8')
) as Questionnaire;

function bound(items: readonly QuestionnaireItem[] | undefined): QuestionnaireItem[] {
  return (items ?? []).flatMap((i) => [...(i.answerValueSet ? [i] : []), ...bound(i.item)]);
}

describe('storedExpansion', () => {
  test.each(bound(questionnaire.item).map((i) => [i.linkId, i.answerValueSet!] as const))(
    '%s: every answer of %s, from the bundled ValueSets alone',
    (_linkId, canonical) => {
      const page = storedExpansion(SHIPPED_VALUE_SETS, { url: canonical });
      const full = shippedTerminology().expansion(canonical);
      expect(full.ok).toBe(true);
      const expected = full.ok ? full.value.entries.map((e) => `${e.system}|${e.code}|${e.display}`) : [];
      expect(page?.expansion?.contains?.map((c) => `${c.system}|${c.code}|${c.display}`)).toEqual(expected);
      expect(page?.expansion?.total).toBe(expected.length);
    }
  );

  const vs: ValueSet = {
    resourceType: 'ValueSet',
    status: 'active',
    url: 'http://example.org/vs',
    version: '1',
    expansion: {
      timestamp: '2026-01-01',
      contains: [
        { system: 's', code: 'a1', display: 'Alpha' },
        {
          system: 's',
          code: 'b2',
          display: 'Beta',
          contains: [{ system: 's', code: 'c3', display: 'Gamma beta' }],
        },
      ],
    },
  };

  test('filters by display or code, case-insensitive, and pages with offset and count', () => {
    const codes = (params: Parameters<typeof storedExpansion>[1]): string[] | undefined =>
      storedExpansion([vs], params)?.expansion?.contains?.map((c) => c.code!);
    expect(codes({ url: 'http://example.org/vs' })).toEqual(['a1', 'b2', 'c3']);
    expect(codes({ url: 'http://example.org/vs', filter: 'BETA' })).toEqual(['b2', 'c3']);
    expect(codes({ url: 'http://example.org/vs', filter: 'a1' })).toEqual(['a1']);
    expect(codes({ url: 'http://example.org/vs', offset: 1, count: 1 })).toEqual(['b2']);
    expect(storedExpansion([vs], { url: 'http://example.org/vs', count: 1 })?.expansion?.total).toBe(3);
  });

  test('another canonical or version, or a ValueSet without an expansion, is not answered here', () => {
    expect(storedExpansion([vs], { url: 'http://example.org/other' })).toBeUndefined();
    expect(storedExpansion([vs], { url: 'http://example.org/vs|2' })).toBeUndefined();
    expect(storedExpansion([vs], { url: 'http://example.org/vs|1' })).toBeDefined();
    expect(
      storedExpansion([{ ...vs, expansion: undefined }], { url: 'http://example.org/vs' })
    ).toBeUndefined();
  });
});
