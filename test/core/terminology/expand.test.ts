import fc from 'fast-check';
import type { Expansion } from '../../../src/core/terminology/expand';
import { computeExpansion, renderExpansion } from '../../../src/core/terminology/expand';
import type { TerminologyResult } from '../../../src/core/terminology/result';
import { terminologySource } from '../../../src/core/terminology/source';
import {
  COLOURS,
  fixedClock,
  fixtureResources,
  PARTIAL,
  SHAPES,
  SNOMED,
  SNOMED_EDITION,
  valueSet,
  valueSets,
  vs,
} from './fixtures';

const source = terminologySource(fixtureResources);

function expand(id: string): TerminologyResult<Expansion> {
  const definition = valueSets.find((v) => v.id === id);
  if (!definition) {
    throw new Error(`no fixture ${id}`);
  }
  return computeExpansion(definition, source);
}

function codes(id: string): string[] {
  const result = expand(id);
  if (!result.ok) {
    throw new Error(JSON.stringify(result.issues));
  }
  return result.value.entries.map((e) => `${e.system === COLOURS ? '' : `${e.system}#`}${e.code}`);
}

function failure(id: string): { kind: string; issues: unknown } {
  const result = expand(id);
  if (result.ok) {
    throw new Error(`${id} expanded`);
  }
  return { kind: result.kind, issues: result.issues };
}

describe('computeExpansion', () => {
  test('takes enumerated concepts with the include version and the value set display, else the code system display', () => {
    const result = expand('warm');
    expect(result.ok && result.value.entries).toEqual([
      { system: COLOURS, version: '1.0.0', code: 'red', display: 'Red' },
      { system: COLOURS, version: '1.0.0', code: 'green', display: 'Leaf green' },
    ]);
    const snomed = expand('snomed');
    expect(snomed.ok && snomed.value.entries).toEqual([
      { system: SNOMED, version: SNOMED_EDITION, code: '24700007', display: 'Multiple sclerosis' },
      { system: SNOMED, version: SNOMED_EDITION, code: '60389000', display: 'Paraplegia' },
    ]);
  });

  test('includes a whole local CodeSystem, flattening nested concepts and flagging inactive and abstract ones', () => {
    const result = expand('all-colours');
    expect(result.ok && result.value.entries).toEqual([
      { system: COLOURS, version: '1.0.0', code: 'red', display: 'Red' },
      { system: COLOURS, version: '1.0.0', code: 'green', display: 'Green' },
      { system: COLOURS, version: '1.0.0', code: 'blue', display: 'Blue' },
      { system: COLOURS, version: '1.0.0', code: 'light-blue', display: 'Light blue' },
      { system: COLOURS, version: '1.0.0', code: 'old-grey', display: 'Old grey', inactive: true },
      { system: COLOURS, version: '1.0.0', code: 'any-colour', display: 'Any colour', abstract: true },
    ]);
  });

  test('drops inactive codes when compose.inactive is false', () => {
    expect(codes('active-only')).toEqual(['red', 'green', 'blue', 'light-blue', 'any-colour']);
  });

  test('joins separate includes and intersects the value sets of one include', () => {
    expect(codes('union')).toEqual(['red', 'green', `${SNOMED}#24700007`, `${SNOMED}#60389000`]);
    expect(codes('intersection')).toEqual(['red', 'green']);
    expect(codes('system-and-import')).toEqual(['red']);
  });

  test('removes excluded concepts and whole excluded systems', () => {
    expect(codes('no-blue')).toEqual(['red', 'green', 'light-blue', 'old-grey', 'any-colour']);
    expect(codes('no-snomed')).toEqual(['red', 'green']);
  });

  test('lists a code once even when several includes contribute it', () => {
    expect(codes('duplicates')).toEqual(['red', 'green']);
  });

  test('reads a ValueSet without compose from its complete stored expansion, nested contains included', () => {
    expect(codes('stored')).toEqual(['red', 'green']);
  });

  test('refuses property filters with not-supported at the filter', () => {
    expect(failure('with-filter')).toEqual({
      kind: 'conformance',
      issues: [
        {
          severity: 'error',
          code: 'not-supported',
          details: {
            text: `Property filters (compose.include.filter) on ${COLOURS} are not supported offline; enumerate the concepts instead`,
          },
          expression: ['ValueSet.compose.include[0].filter[0]'],
        },
      ],
    });
  });

  test('refuses whole external code systems and code systems without complete content', () => {
    expect(failure('whole-snomed')).toMatchObject({
      kind: 'conformance',
      issues: [{ code: 'not-supported', expression: ['ValueSet.compose.include[0]'] }],
    });
    expect(failure('whole-partial')).toMatchObject({
      issues: [
        {
          code: 'not-supported',
          details: { text: `CodeSystem ${PARTIAL}|1 has content 'fragment', so it cannot be included whole` },
        },
      ],
    });
  });

  test('refuses a stored expansion that is only one page', () => {
    expect(failure('stored-page')).toMatchObject({
      issues: [{ code: 'not-supported', expression: ['ValueSet.expansion'] }],
    });
  });

  test('reports a code that the complete local CodeSystem does not define', () => {
    expect(failure('bad-code')).toEqual({
      kind: 'conformance',
      issues: [
        {
          severity: 'error',
          code: 'code-invalid',
          details: { text: `Code 'purple' is not defined in CodeSystem ${COLOURS}|1.0.0` },
          expression: ['ValueSet.compose.include[0].concept[1].code'],
        },
      ],
    });
  });

  test('reports a code system version that is not available', () => {
    expect(failure('bad-version')).toMatchObject({
      issues: [
        {
          code: 'not-found',
          details: { text: `CodeSystem ${COLOURS} version 9.9.9 is not available (available: 1.0.0)` },
          expression: ['ValueSet.compose.include[0].version'],
        },
      ],
    });
  });

  test('reports an unknown imported ValueSet at the import', () => {
    expect(failure('missing-import')).toEqual({
      kind: 'conformance',
      issues: [
        {
          severity: 'error',
          code: 'not-found',
          details: { text: `Imported ValueSet ${vs('nowhere')} is not known` },
          expression: ['ValueSet.compose.include[0].valueSet[0]'],
        },
      ],
    });
  });

  test('reports a problem inside an imported ValueSet at the import, naming where it arose', () => {
    expect(failure('imports-broken')).toMatchObject({
      issues: [
        {
          code: 'processing',
          details: { text: `Imported ValueSet ${vs('with-filter')}|1 cannot be expanded` },
          expression: ['ValueSet.compose.include[1].valueSet[0]'],
        },
        {
          code: 'not-supported',
          details: {
            text: expect.stringMatching(
              new RegExp(
                `^In ${vs('with-filter')}\\|1 at ValueSet\\.compose\\.include\\[0\\]\\.filter\\[0\\]: Property filters`
              )
            ),
          },
          expression: ['ValueSet.compose.include[1].valueSet[0]'],
        },
      ],
    });
  });

  test('detects import cycles, including a ValueSet that imports itself', () => {
    const a = failure('cycle-a');
    expect(JSON.stringify(a.issues)).toContain(
      `ValueSet imports form a cycle: ${vs('cycle-a')}|1 → ${vs('cycle-b')}|1 → ${vs('cycle-a')}|1`
    );
    expect(failure('self')).toMatchObject({
      issues: [
        {
          code: 'processing',
          details: { text: `ValueSet imports form a cycle: ${vs('self')}|1 → ${vs('self')}|1` },
        },
      ],
    });
    expect(failure('imports-cycle').kind).toBe('conformance');
  });

  test('rejects includes that name neither a system nor a ValueSet (vsd-1) and concepts without a system (vsd-2)', () => {
    const noTarget = computeExpansion(valueSet('x', [{}]), source);
    expect(noTarget).toMatchObject({
      ok: false,
      issues: [{ code: 'invalid', expression: ['ValueSet.compose.include[0]'] }],
    });
    const noSystem = computeExpansion(
      valueSet('y', [{ valueSet: [vs('warm')], concept: [{ code: 'red' }] }]),
      source
    );
    expect(noSystem).toMatchObject({
      ok: false,
      issues: [{ code: 'invalid', details: { text: expect.stringContaining('vsd-2') } }],
    });
  });

  test('rejects a ValueSet with neither compose nor expansion', () => {
    expect(failure('empty')).toMatchObject({ issues: [{ code: 'invalid', expression: ['ValueSet'] }] });
  });

  test('matches codes of a case-insensitive CodeSystem and keeps the defined form', () => {
    const result = computeExpansion(
      valueSet('s', [{ system: SHAPES, concept: [{ code: 'circle' }] }]),
      source
    );
    expect(result.ok && result.value.entries).toEqual([
      { system: SHAPES, version: '2', code: 'Circle', display: 'Circle' },
    ]);
  });

  test('reuses cached expansions of imported ValueSets', () => {
    const cache = new Map<string, TerminologyResult<Expansion>>();
    computeExpansion(
      valueSets.find((v) => v.id === 'union')!,
      source,
      cache
    );
    const warm = cache.get(`${vs('warm')}|1`);
    expect(warm?.ok).toBe(true);
    computeExpansion(
      valueSets.find((v) => v.id === 'intersection')!,
      source,
      cache
    );
    expect(cache.get(`${vs('warm')}|1`)).toBe(warm);
  });
});

describe('renderExpansion', () => {
  const full = (id: string): Expansion => {
    const result = expand(id);
    if (!result.ok) {
      throw new Error(id);
    }
    return result.value;
  };

  test('returns the definition with a timestamped expansion, its total, used code systems and contains', () => {
    const definition = valueSets.find((v) => v.id === 'union')!;
    const result = renderExpansion(full('union'), {}, fixedClock);
    expect(result).toEqual({
      ok: true,
      issues: [],
      value: {
        ...definition,
        expansion: {
          timestamp: '2026-11-27T10:00:00.000Z',
          total: 4,
          parameter: [
            { name: 'used-codesystem', valueUri: `${COLOURS}|1.0.0` },
            { name: 'used-codesystem', valueUri: `${SNOMED}|${SNOMED_EDITION}` },
          ],
          contains: [
            { system: COLOURS, version: '1.0.0', code: 'red', display: 'Red' },
            { system: COLOURS, version: '1.0.0', code: 'green', display: 'Leaf green' },
            { system: SNOMED, version: SNOMED_EDITION, code: '24700007', display: 'Multiple sclerosis' },
            { system: SNOMED, version: SNOMED_EDITION, code: '60389000', display: 'Paraplegia' },
          ],
        },
      },
    });
  });

  test('marks inactive and abstract codes in contains', () => {
    const result = renderExpansion(full('all-colours'), { filter: 'o' }, fixedClock);
    expect(result.ok && result.value.expansion?.contains).toEqual([
      { system: COLOURS, inactive: true, version: '1.0.0', code: 'old-grey', display: 'Old grey' },
      { system: COLOURS, abstract: true, version: '1.0.0', code: 'any-colour', display: 'Any colour' },
    ]);
  });

  test('filters case-insensitively on code and display and records the parameters used', () => {
    const result = renderExpansion(full('all-colours'), { filter: 'BLUE', offset: 1, count: 5 }, fixedClock);
    expect(result.ok && result.value.expansion).toEqual({
      timestamp: '2026-11-27T10:00:00.000Z',
      total: 2,
      offset: 1,
      parameter: [
        { name: 'filter', valueString: 'BLUE' },
        { name: 'offset', valueInteger: 1 },
        { name: 'count', valueInteger: 5 },
        { name: 'used-codesystem', valueUri: `${COLOURS}|1.0.0` },
      ],
      contains: [{ system: COLOURS, version: '1.0.0', code: 'light-blue', display: 'Light blue' }],
    });
  });

  test('answers count 0 and an offset past the end with the total and no contains', () => {
    for (const page of [{ count: 0 }, { offset: 99 }]) {
      const result = renderExpansion(full('all-colours'), page, fixedClock);
      expect(result.ok && result.value.expansion?.total).toBe(6);
      expect(result.ok && result.value.expansion?.contains).toBeUndefined();
    }
  });

  test('replaces a stored expansion instead of merging with it', () => {
    const result = renderExpansion(full('stored'), {}, fixedClock);
    expect(result.ok && result.value.expansion?.timestamp).toBe('2026-11-27T10:00:00.000Z');
    expect(result.ok && result.value.expansion?.total).toBe(2);
    expect(valueSets.find((v) => v.id === 'stored')?.expansion?.timestamp).toBe('2020-01-01T00:00:00Z');
  });

  test('pages and filters exactly like slicing the filtered code list', () => {
    const expansion = full('all-colours');
    fc.assert(
      fc.property(
        fc.option(fc.string({ maxLength: 3 }), { nil: undefined }),
        fc.option(fc.nat(10), { nil: undefined }),
        fc.option(fc.nat(10), { nil: undefined }),
        (filter, offset, count) => {
          const result = renderExpansion(expansion, { filter, offset, count }, fixedClock);
          const needle = (filter ?? '').toLowerCase();
          const matching = expansion.entries.filter(
            (e) => e.code.toLowerCase().includes(needle) || (e.display ?? '').toLowerCase().includes(needle)
          );
          const start = offset ?? 0;
          const page = matching.slice(start, count === undefined ? undefined : start + count);
          expect(result.ok).toBe(true);
          expect(result.ok && result.value.expansion?.total).toBe(matching.length);
          expect(result.ok && (result.value.expansion?.contains ?? []).map((c) => c.code)).toEqual(
            page.map((e) => e.code)
          );
        }
      )
    );
  });

  test('rejects negative, fractional and non-finite offsets and counts as invalid input', () => {
    const expansion = full('warm');
    const bad = fc.oneof(
      fc.integer({ max: -1 }),
      fc.double({ noInteger: true }),
      fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60)
    );
    fc.assert(
      fc.property(bad, fc.boolean(), (value, asOffset) => {
        const result = renderExpansion(
          expansion,
          asOffset ? { offset: value } : { count: value },
          fixedClock
        );
        expect(result.ok).toBe(false);
        expect(!result.ok && result.kind).toBe('structural');
        expect(result.issues[0]).toMatchObject({
          severity: 'error',
          code: 'invalid',
          details: { text: expect.stringContaining(asOffset ? "'offset'" : "'count'") },
        });
      })
    );
  });
});
