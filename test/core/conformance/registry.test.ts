import fc from 'fast-check';
import type { Resource } from '@medplum/fhirtypes';
import { ConformanceRegistry, splitCanonical } from '../../../src/core/conformance/registry';

/** The look-up as specified: filter, then the exact version, else the highest (numeric segments compared as numbers). */
function expected(resources: readonly Resource[], canonical: string, type?: string): Resource | undefined {
  const [url, version] = splitCanonical(canonical);
  const candidates = resources.filter(
    (r) => (r as { url?: string }).url === url && (!type || r.resourceType === type)
  );
  if (version !== undefined) {
    return candidates.find((r) => (r as { version?: string }).version === version);
  }
  const key = (v = ''): number[] => v.split('.').map(Number);
  let best: Resource | undefined;
  for (const r of candidates) {
    const v = key((r as { version?: string }).version);
    const b = best ? key((best as { version?: string }).version) : undefined;
    const higher =
      !b ||
      (() => {
        for (let i = 0; i < Math.max(v.length, b.length); i++) {
          const d = (v[i] ?? -1) - (b[i] ?? -1);
          if (d !== 0) {
            return d > 0;
          }
        }
        return false;
      })();
    if (higher) {
      best = r;
    }
  }
  return best;
}

describe('ConformanceRegistry.resolve', () => {
  test('answers a look-up seen before as a new registry answers it (generated look-up sequences)', () => {
    const resource = fc.record({
      resourceType: fc.constantFrom('Questionnaire', 'PlanDefinition', 'ValueSet'),
      url: fc.constantFrom('http://x/a', 'http://x/b'),
      version: fc.option(fc.constantFrom('1.0.0', '1.2.0', '1.10.0', '2.0.0', '0.9', ''), { nil: undefined }),
      id: fc.uuid(),
    });
    const lookUp = fc.tuple(
      fc.constantFrom(
        'http://x/a',
        'http://x/b',
        'http://x/a|1.10.0',
        'http://x/b|0.9',
        'http://x/a|',
        'http://x/c'
      ),
      fc.constantFrom(undefined, 'Questionnaire', 'PlanDefinition', 'ValueSet')
    );
    fc.assert(
      fc.property(
        fc.array(resource, { maxLength: 8 }),
        fc.array(lookUp, { maxLength: 12 }),
        (resources, lookUps) => {
          // One registry answers the whole sequence (its memory of earlier answers in play); a new one
          // per look-up answers without memory, and the specified look-up says whether there is an answer.
          const registry = new ConformanceRegistry(resources as Resource[]);
          for (const [canonical, type] of lookUps) {
            const found = registry.resolve(canonical, type as never);
            const fresh = new ConformanceRegistry(resources as Resource[]);
            expect(found).toBe(fresh.resolve(canonical, type as never));
            const want = expected(resources as Resource[], canonical, type);
            expect(found === undefined).toBe(want === undefined);
            if (type) {
              expect(found?.resourceType ?? type).toBe(type);
            }
          }
        }
      )
    );
  });

  test('gives the exact version, else the highest, of the right type (generated registries)', () => {
    const resource = fc.record({
      resourceType: fc.constantFrom('Questionnaire', 'PlanDefinition'),
      url: fc.constantFrom('http://x/a', 'http://x/b'),
      version: fc.constantFrom('1.0.0', '1.2.0', '1.10.0', '2.0.0', '0.9'),
      id: fc.uuid(),
    });
    fc.assert(
      fc.property(
        fc.array(resource, { maxLength: 8 }),
        fc.constantFrom('http://x/a', 'http://x/b', 'http://x/a|1.10.0', 'http://x/b|0.9', 'http://x/c'),
        fc.constantFrom(undefined, 'Questionnaire', 'PlanDefinition'),
        (resources, canonical, type) => {
          const registry = new ConformanceRegistry(resources as Resource[]);
          const found = registry.resolve(canonical, type as never);
          const want = expected(resources as Resource[], canonical, type);
          expect((found as { version?: string } | undefined)?.version).toBe(
            (want as { version?: string } | undefined)?.version
          );
          if (want && canonical.includes('|')) {
            expect(found).toBe(want);
          }
        }
      )
    );
  });
});
