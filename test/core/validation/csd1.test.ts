import fc from 'fast-check';
import type { Resource } from '@medplum/fhirtypes';
import { evaluateFhirPath, isTrue } from '../../../src/core/fhirpath/fhirpath';
import { CSD1_EXPRESSION, codesAreDistinct, csd1Work } from '../../../src/core/validation/csd1';
import { createValidator } from '../../../src/core/validation/validator';
import { r4Definitions, r4Schema } from '../../helpers/validation';

const code = fc.constantFrom('a', 'b', 'c', 'A', 'd');

interface Concept {
  code: string;
  display?: string;
  concept?: Concept[];
}

const concept: fc.Arbitrary<Concept> = fc.letrec<{ concept: Concept }>((tie) => ({
  concept: fc.record(
    {
      code,
      display: fc.constantFrom('x', 'y'),
      concept: fc.array(tie('concept'), { maxLength: 2, depthIdentifier: 'concepts' }),
    },
    { requiredKeys: ['code'] }
  ),
})).concept;

const containedValueSet = fc.record({
  resourceType: fc.constant('ValueSet'),
  id: fc.constantFrom('v1', 'v2'),
  status: fc.constant('draft'),
  compose: fc.record({
    include: fc.array(
      fc.record({
        system: fc.constant('http://x.example/cs'),
        concept: fc.array(fc.record({ code }), { maxLength: 2 }),
      }),
      { minLength: 1, maxLength: 2 }
    ),
  }),
});

const codeSystem = fc
  .record({
    concept: fc.array(concept, { maxLength: 3 }),
    contained: fc.array(containedValueSet, { maxLength: 2 }),
  })
  .map(
    ({ concept: concepts, contained }) =>
      JSON.parse(
        JSON.stringify({
          resourceType: 'CodeSystem',
          url: 'http://x.example/cs',
          status: 'active',
          content: 'complete',
          ...(contained.length > 0 ? { contained } : {}),
          ...(concepts.length > 0 ? { concept: concepts } : {}),
        })
      ) as Resource
  );

describe('csd-1 as plain code', () => {
  it('agrees with fhirpath.js on generated CodeSystems (nested concepts, contained ValueSets)', () => {
    fc.assert(
      fc.property(codeSystem, (resource) => {
        const oracle = isTrue(
          evaluateFhirPath(CSD1_EXPRESSION, resource, { resource, rootResource: resource }, 'CodeSystem')
        );
        expect(codesAreDistinct(resource as never)).toBe(oracle);
      }),
      { numRuns: 500 }
    );
  });

  it('does work linear in the body for inline CodeSystems of 10 KB, 100 KB and 1 MB', () => {
    const validator = createValidator({ definitions: r4Definitions(), schema: r4Schema() });
    const body = (n: number): Resource =>
      ({
        resourceType: 'CodeSystem',
        url: 'http://x.example/cs',
        status: 'active',
        content: 'complete',
        concept: Array.from({ length: n }, (_, i) => ({
          code: `c${i}`,
          display: `Concept ${i}`,
          // The last child repeats the first code: csd-1 must still find it.
          concept: [{ code: i === n - 1 ? 'c0' : `c${i}.1`, display: 'child' }],
        })),
      }) as Resource;
    const perByte: number[] = [];
    for (const n of [110, 1100, 11_000]) {
      const resource = body(n);
      const bytes = JSON.stringify(resource).length;
      csd1Work.visited = 0;
      const result = validator.validate(resource);
      expect(result.issues.map((i) => i.details?.text)).toEqual([
        expect.stringContaining('Constraint csd-1 not met'),
      ]);
      perByte.push(csd1Work.visited / bytes);
    }
    expect(JSON.stringify(body(11_000)).length).toBeGreaterThan(1_000_000);
    expect(perByte[1]! / perByte[0]!).toBeLessThan(1.5);
    expect(perByte[2]! / perByte[0]!).toBeLessThan(1.5);
  });
});
