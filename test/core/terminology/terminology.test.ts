import fc from 'fast-check';
import type { CodeSystem, ValueSet } from '@medplum/fhirtypes';
import { ConformanceRegistry } from '../../../src/core/conformance/registry';
import type { TerminologySource } from '../../../src/core/terminology/source';
import { terminologySource } from '../../../src/core/terminology/source';
import { shippedTerminology, Terminology } from '../../../src/core/terminology/terminology';
import { COLOURS, fixedClock, fixtureResources, SNOMED, SNOMED_EDITION, valueSet, vs } from './fixtures';

/** A source that counts how often each lookup is made. */
function countingSource(): TerminologySource & { calls: { valueSet: number; codeSystem: number } } {
  const inner = terminologySource(fixtureResources);
  const calls = { valueSet: 0, codeSystem: 0 };
  return {
    calls,
    valueSet: (canonical) => {
      calls.valueSet++;
      return inner.valueSet(canonical);
    },
    codeSystem: (system, version) => {
      calls.codeSystem++;
      return inner.codeSystem(system, version);
    },
    conceptMap: (canonical) => inner.conceptMap(canonical),
  };
}

describe('Terminology.memberOf', () => {
  const terminology = new Terminology(fixtureResources);

  test('answers true for members and false for other codes', () => {
    expect(terminology.memberOf(vs('union'), COLOURS, 'red')).toBe(true);
    expect(terminology.memberOf(vs('union'), SNOMED, '60389000')).toBe(true);
    expect(terminology.memberOf(vs('union'), COLOURS, 'blue')).toBe(false);
    expect(terminology.memberOf(vs('union'), SNOMED, 'red')).toBe(false);
    expect(terminology.memberOf(vs('union'), COLOURS, 'RED')).toBe(false);
  });

  test('accepts a versioned canonical', () => {
    expect(terminology.memberOf(`${vs('warm')}|1`, COLOURS, 'green')).toBe(true);
    expect(terminology.memberOf(`${vs('warm')}|2`, COLOURS, 'green')).toBeUndefined();
  });

  test('memory stays bounded however many distinct ValueSet texts arrive, and answers stay the same', () => {
    const source = countingSource();
    const counted = new Terminology(source);
    expect(counted.memberOf(vs('union'), COLOURS, 'red')).toBe(true);
    for (let i = 0; i < 5_000; i++) {
      expect(counted.memberOf(vs(`nowhere-${i}`), COLOURS, 'red')).toBeUndefined();
      expect(counted.memberOf(`${vs('warm')}|${i + 2}`, COLOURS, 'green')).toBeUndefined();
    }
    const held = counted as unknown as {
      membership: Map<string, unknown>;
      otherMembership: { size: number };
    };
    expect(held.membership.size).toBe(1);
    expect(held.otherMembership.size).toBeLessThanOrEqual(256);
    // a known ValueSet's own canonical stays indexed: asking again reads no definition
    const before = source.calls.valueSet;
    expect(counted.memberOf(vs('union'), COLOURS, 'blue')).toBe(false);
    expect(counted.memberOf(vs('union'), SNOMED, '60389000')).toBe(true);
    expect(source.calls.valueSet).toBe(before);
    // an unknown one forgotten to make room is answered the same when asked again
    expect(counted.memberOf(vs('nowhere-0'), COLOURS, 'red')).toBeUndefined();
  });

  test('is undefined for an unknown ValueSet and for one that cannot be expanded offline', () => {
    expect(terminology.memberOf(vs('nowhere'), COLOURS, 'red')).toBeUndefined();
    expect(terminology.memberOf(vs('with-filter'), COLOURS, 'blue')).toBeUndefined();
    expect(terminology.memberOf(vs('cycle-a'), COLOURS, 'red')).toBeUndefined();
  });

  test('matches a coding version against the expansion version, any version when none is given', () => {
    expect(terminology.memberOf(vs('snomed'), SNOMED, '24700007', SNOMED_EDITION)).toBe(true);
    expect(
      terminology.memberOf(
        vs('snomed'),
        SNOMED,
        '24700007',
        'http://snomed.info/sct/900000000000207008/version/20190731'
      )
    ).toBe(false);
    expect(terminology.memberOf(vs('snomed'), SNOMED, '24700007')).toBe(true);
  });

  test('expands each ValueSet once, however often it is asked', () => {
    const source = countingSource();
    const counted = new Terminology(source);
    expect(counted.memberOf(vs('union'), COLOURS, 'red')).toBe(true);
    const after = { ...source.calls };
    for (let i = 0; i < 1000; i++) {
      counted.memberOf(vs('union'), COLOURS, i % 2 === 0 ? 'red' : 'blue');
      counted.memberOf(vs('nowhere'), COLOURS, 'red');
    }
    counted.memberOf(vs('nowhere'), COLOURS, 'red');
    expect(source.calls.codeSystem).toBe(after.codeSystem);
    // One extra resolution for the first question about the unknown ValueSet, then none.
    expect(source.calls.valueSet).toBe(after.valueSet + 1);
  });

  test('agrees with the expansion for any code', () => {
    const expansion = terminology.expansion(vs('no-blue'));
    const members = new Set(expansion.ok ? expansion.value.entries.map((e) => `${e.system} ${e.code}`) : []);
    const known = ['red', 'green', 'blue', 'light-blue', 'old-grey', 'any-colour'];
    fc.assert(
      fc.property(
        fc.constantFrom(COLOURS, SNOMED, 'http://other'),
        fc.oneof(fc.constantFrom(...known), fc.string()),
        (system, code) => {
          expect(terminology.memberOf(vs('no-blue'), system, code)).toBe(members.has(`${system} ${code}`));
        }
      )
    );
  });
});

describe('Terminology.expand and expansion', () => {
  test('expands a known ValueSet by canonical, stamping the injected clock', () => {
    const terminology = new Terminology(fixtureResources);
    const result = terminology.expand(vs('warm'), { clock: fixedClock, count: 1 });
    expect(result.ok && result.value.expansion).toEqual({
      timestamp: '2026-11-27T10:00:00.000Z',
      total: 2,
      parameter: [
        { name: 'count', valueInteger: 1 },
        { name: 'used-codesystem', valueUri: `${COLOURS}|1.0.0` },
      ],
      contains: [{ system: COLOURS, version: '1.0.0', code: 'red', display: 'Red' }],
    });
  });

  test('fails with not-found for an unknown canonical', () => {
    const result = new Terminology(fixtureResources).expand(vs('nowhere'), { clock: fixedClock });
    expect(result).toEqual({
      ok: false,
      kind: 'not-found',
      issues: [
        { severity: 'error', code: 'not-found', details: { text: `ValueSet ${vs('nowhere')} is not known` } },
      ],
    });
  });

  test('expands a ValueSet given inline, resolving its imports', () => {
    const inline = valueSet('inline', [
      { valueSet: [vs('warm')] },
      { system: SNOMED, concept: [{ code: '1' }] },
    ]);
    const result = new Terminology(fixtureResources).expansion(inline);
    expect(result.ok && result.value.entries.map((e) => e.code)).toEqual(['red', 'green', '1']);
  });

  test('does not let an inline ValueSet with a known canonical replace or reuse the cached expansion', () => {
    const terminology = new Terminology(fixtureResources);
    expect(terminology.memberOf(vs('warm'), COLOURS, 'green')).toBe(true);
    const impostor: ValueSet = valueSet('warm', [{ system: COLOURS, concept: [{ code: 'blue' }] }]);
    const result = terminology.expansion(impostor);
    expect(result.ok && result.value.entries.map((e) => e.code)).toEqual(['blue']);
    expect(terminology.memberOf(vs('warm'), COLOURS, 'green')).toBe(true);
    expect(terminology.validateCode(vs('warm'), { system: COLOURS, code: 'blue' })).toMatchObject({
      ok: true,
      value: { result: false },
    });
  });

  test('builds over a registry, a resource list or a source alike', () => {
    const fromRegistry = new Terminology(new ConformanceRegistry(fixtureResources));
    const fromSource = new Terminology(terminologySource(fixtureResources));
    for (const t of [fromRegistry, fromSource]) {
      expect(t.memberOf(vs('warm'), COLOURS, 'red')).toBe(true);
      expect(t.codeSystem(COLOURS)?.version).toBe('1.0.0');
    }
  });

  test('fails an expansion in any ValueSet of a random import graph exactly when it reaches a cycle', () => {
    // Each ValueSet n has its own local code n and imports others; members are every code reachable.
    const graphs = fc
      .integer({ min: 1, max: 6 })
      .chain((n) =>
        fc.tuple(
          fc.constant(n),
          fc.array(fc.array(fc.nat(n - 1), { maxLength: 3 }), { minLength: n, maxLength: n })
        )
      );
    fc.assert(
      fc.property(graphs, ([n, edges]) => {
        const cs: CodeSystem = {
          resourceType: 'CodeSystem',
          url: 'http://example.org/cs/n',
          status: 'active',
          content: 'complete',
          concept: Array.from({ length: n }, (_, i) => ({ code: `c${i}` })),
        };
        const sets = edges.map((targets, i) =>
          valueSet(`g${i}`, [
            { system: cs.url, concept: [{ code: `c${i}` }] },
            ...targets.map((t) => ({ valueSet: [vs(`g${t}`)] })),
          ])
        );
        const terminology = new Terminology([cs, ...sets]);
        const reach = (start: number): { nodes: Set<number>; cyclic: boolean } => {
          const nodes = new Set<number>();
          let cyclic = false;
          const visit = (node: number, path: number[]): void => {
            if (path.includes(node)) {
              cyclic = true;
              return;
            }
            nodes.add(node);
            for (const next of edges[node] ?? []) {
              visit(next, [...path, node]);
            }
          };
          visit(start, []);
          return { nodes, cyclic };
        };
        for (let i = 0; i < n; i++) {
          const { nodes, cyclic } = reach(i);
          const result = terminology.expansion(vs(`g${i}`));
          expect(result.ok).toBe(!cyclic);
          if (result.ok) {
            expect(new Set(result.value.entries.map((e) => e.code))).toEqual(
              new Set([...nodes].map((k) => `c${k}`))
            );
          } else {
            expect(result.issues.some((x) => x.details?.text?.includes('cycle'))).toBe(true);
          }
        }
      })
    );
  });
});

describe('shippedTerminology', () => {
  test('serves the shipped content, built once', () => {
    const terminology = shippedTerminology();
    expect(shippedTerminology()).toBe(terminology);
    expect(
      terminology.memberOf(
        'http://re-fhir.org/fhir/ValueSet/re-risk-medications',
        'http://www.whocc.no/atc',
        'G04CA04'
      )
    ).toBe(true);
    expect(
      terminology.memberOf(
        'http://re-fhir.org/fhir/ValueSet/re-conditions',
        'http://hl7.org/fhir/sid/icd-10-cm',
        'N53.14',
        '2021'
      )
    ).toBe(true);
    expect(
      terminology.memberOf(
        'http://re-fhir.org/fhir/ValueSet/re-conditions',
        'http://hl7.org/fhir/sid/icd-10-cm',
        'N53.1'
      )
    ).toBe(false);
  });
});
