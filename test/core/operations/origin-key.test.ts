import fc from 'fast-check';
import { definitionName, originKey, pathKey } from '../../../src/core/operations/origin-key';

describe('originKey', () => {
  test('names the definition and the action by its indexes', () => {
    expect(originKey('http://x/PlanDefinition/name|1.0', 'PlanDefinition.action[0].action[2]')).toBe(
      'name-0.2'
    );
    expect(originKey('http://x/PlanDefinition/other', 'PlanDefinition.action[12]')).toBe('other-12');
    expect(pathKey('PlanDefinition')).toBe('');
    expect(definitionName('name|1.0')).toBe('name');
  });

  test('a kept key is the key worked out afresh (generated sequences, beyond the bound)', () => {
    const canonical = fc.oneof(
      fc.constantFrom('http://x/PlanDefinition/a|1.0', 'http://x/PlanDefinition/b', 'a|b|c', ''),
      fc.string()
    );
    const path = fc.oneof(
      fc
        .array(fc.nat(30), { maxLength: 4 })
        .map((indexes) => `PlanDefinition${indexes.map((i) => `.action[${i}]`).join('')}`),
      fc.string()
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(canonical, path), { minLength: 1, maxLength: 3000 }), (pairs) => {
        // Each pair asked twice, in between the others: kept answers, evicted ones and fresh ones.
        for (const round of [0, 1]) {
          for (const [c, p] of round === 0 ? pairs : [...pairs].reverse()) {
            expect(originKey(c, p)).toBe(`${definitionName(c)}-${pathKey(p)}`);
          }
        }
      }),
      { numRuns: 30 }
    );
  });
});
