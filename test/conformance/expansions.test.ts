/**
 * Every answer list renders without a terminology server: each shipped ValueSet carries a precomputed
 * expansion (current with its compose) in the form Medplum 5's `$expand` returns as it is, and every
 * choice item's `answerValueSet` is a canonical whose stored expansion lists all of its answers.
 */
import type { Questionnaire, QuestionnaireItem, ValueSet } from '@medplum/fhirtypes';
import { readFileSync } from 'node:fs';
import { shippedRegistry } from '../../src/core/conformance/registry';
import { shippedTerminology } from '../../src/core/terminology';
import { generateExpansions } from '../../src/tools/build-expansions';

const registry = shippedRegistry();
const valueSets = registry.ofType<ValueSet>('ValueSet');
const questionnaire = registry.resolve<Questionnaire>(
  'http://re-fhir.org/fhir/Questionnaire/re-evaluation',
  'Questionnaire'
)!;

function choiceItems(items: readonly QuestionnaireItem[] | undefined): QuestionnaireItem[] {
  return (items ?? []).flatMap((i) => [
    ...(i.type === 'choice' || i.type === 'open-choice' ? [i] : []),
    ...choiceItems(i.item),
  ]);
}

describe('precomputed ValueSet expansions', () => {
  test('the committed expansions are the ones computed from compose (npm run expansions)', () => {
    for (const { file, content } of generateExpansions()) {
      expect({ file, content: readFileSync(file, 'utf8') }).toEqual({ file, content });
    }
  });

  test.each(valueSets.map((v) => [v.url!, v] as const))(
    '%s: an expansion Medplum 5 returns as stored (contains non-empty, no parameter, total absent or exact)',
    (_url, valueSet) => {
      const expansion = valueSet.expansion!;
      expect(expansion.contains?.length).toBeGreaterThan(0);
      expect(expansion.parameter).toBeUndefined();
      expect(expansion.total === undefined || expansion.total === expansion.contains!.length).toBe(true);
      expect(expansion.offset).toBeUndefined();
      expect(expansion.timestamp).toBe(valueSet.date);
    }
  );
});

describe('every choice item lists all of its answers without a terminology server', () => {
  const items = choiceItems(questionnaire.item);

  test('there are choice items with answerValueSet, all canonical', () => {
    const bound = items.filter((i) => i.answerValueSet);
    expect(bound.length).toBeGreaterThan(5);
    for (const item of bound) {
      expect(item.answerValueSet).toMatch(
        /^http:\/\/re-fhir\.org\/fhir\/ValueSet\/[a-z0-9-]+(\|\d+\.\d+\.\d+)?$/
      );
    }
  });

  test.each(items.map((i) => [i.linkId, i] as const))('%s', (_linkId, item) => {
    if (item.answerOption) {
      expect(item.answerOption.length).toBeGreaterThan(0);
      return;
    }
    const valueSet = registry.resolve<ValueSet>(item.answerValueSet!, 'ValueSet')!;
    const stored = (valueSet.expansion?.contains ?? []).map((c) => `${c.system}|${c.code}|${c.display}`);
    const full = shippedTerminology().expansion(item.answerValueSet!);
    expect(full.ok).toBe(true);
    const computed = full.ok ? full.value.entries.map((e) => `${e.system}|${e.code}|${e.display}`) : [];
    expect(stored).toEqual(computed);
    expect(stored.every((s) => !s.endsWith('|undefined'))).toBe(true);
  });
});
