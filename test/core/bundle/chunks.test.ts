import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { dependencyOrder, resolveWritten, splitTransaction } from '../../../src/core/bundle/chunks';
import { ReFhirError } from '../../../src/core/outcomes';
import { scenarios } from '../../helpers/scenarios';

const uuid = (n: number): string => `urn:uuid:00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** A Basic resource at `uuid(n)` that references each of `refs` (by their numbers). */
function entry(n: number, refs: readonly number[] = []): BundleEntry {
  return {
    fullUrl: uuid(n),
    resource: {
      resourceType: 'Basic',
      code: { text: `entry ${n}` },
      extension: refs.map((r) => ({ url: 'http://example.org/ref', valueReference: { reference: uuid(r) } })),
    },
    request: { method: 'PUT', url: `Basic?identifier=http://example.org|${n}` },
  };
}

const numberOf = (e: BundleEntry): number => Number(e.fullUrl!.slice(-12));

/** Every `urn:uuid:` a resource mentions. */
function mentioned(resource: Resource | undefined): string[] {
  return JSON.stringify(resource ?? {}).match(/urn:uuid:[0-9a-f-]{36}/g) ?? [];
}

const goldenBundles: [string, Bundle][] = scenarios().map((s) => [
  s.name,
  JSON.parse(readFileSync(s.expectedFile, 'utf8')) as Bundle,
]);

function thrown(f: () => unknown): ReFhirError {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(ReFhirError);
    return error as ReFhirError;
  }
  throw new Error('expected a ReFhirError');
}

describe('dependencyOrder', () => {
  test('puts every entry after each entry it references, and keeps Bundle order otherwise', () => {
    // 1 → 3, 2 → 1, 4 and 5 unrelated.
    const entries = [entry(1, [3]), entry(2, [1]), entry(3), entry(4), entry(5)];
    expect(dependencyOrder(entries).map(numberOf)).toEqual([3, 1, 2, 4, 5]);
  });

  test('orders any acyclic Bundle, however shuffled: a permutation with every reference pointing back', () => {
    // Random DAG: entry i may reference only entries with a smaller i; then the entries are shuffled.
    const dag = fc.integer({ min: 1, max: 40 }).chain((n) =>
      fc.tuple(
        fc.tuple(
          ...Array.from({ length: n }, (_, i) =>
            fc.uniqueArray(fc.integer({ min: 0, max: Math.max(0, i - 1) }), { maxLength: i === 0 ? 0 : 4 })
          )
        ),
        fc.shuffledSubarray(
          Array.from({ length: n }, (_, i) => i),
          { minLength: n, maxLength: n }
        )
      )
    );
    fc.assert(
      fc.property(dag, ([refs, shuffle]) => {
        const entries = shuffle.map((i) => entry(i, refs[i]!));
        const ordered = dependencyOrder(entries);
        expect(ordered.map(numberOf).sort((a, b) => a - b)).toEqual(shuffle.slice().sort((a, b) => a - b));
        const position = new Map(ordered.map((e, at) => [e.fullUrl!, at]));
        ordered.forEach((e, at) => {
          for (const target of mentioned(e.resource)) {
            expect(position.get(target)!).toBeLessThan(at);
          }
        });
      })
    );
  });

  test('on the golden Bundles, gives Observations, Conditions, requests, RequestGroup, CarePlan, Provenance', () => {
    // Derived from the references alone; this is the order the clinical content implies.
    const rank: Record<string, number> = {
      Observation: 0,
      Condition: 1,
      ServiceRequest: 2,
      MedicationRequest: 2,
      CommunicationRequest: 2,
      Task: 2,
      RequestGroup: 3,
      CarePlan: 4,
      Provenance: 5,
    };
    for (const [name, bundle] of goldenBundles) {
      const ranks = dependencyOrder(bundle.entry!).map((e) => rank[e.resource!.resourceType]!);
      expect({ name, ranks }).toEqual({ name, ranks: [...ranks].sort((a, b) => a - b) });
    }
  });

  test('does not count a reference of an entry to itself, nor to anything outside the Bundle', () => {
    const self = entry(1, [1, 99]);
    expect(dependencyOrder([self, entry(2, [1])]).map(numberOf)).toEqual([1, 2]);
  });

  test('fails on a cycle with an internal error that names the entries of the cycle, in order', () => {
    // 0 is fine; 1 → 2 → 3 → 1 is the cycle; 4 waits on it.
    const entries = [entry(0), entry(1, [2]), entry(2, [3]), entry(3, [1]), entry(4, [1])];
    const error = thrown(() => dependencyOrder(entries));
    expect(error.kind).toBe('internal');
    const [problem] = error.outcome.issue;
    expect(problem!.severity).toBe('error');
    expect(problem!.expression).toEqual(['Bundle.entry[1]', 'Bundle.entry[2]', 'Bundle.entry[3]']);
    expect(problem!.details?.text).toContain(
      `Bundle.entry[1] (Basic ${uuid(1)}) → Bundle.entry[2] (Basic ${uuid(2)}) → ` +
        `Bundle.entry[3] (Basic ${uuid(3)}) → Bundle.entry[1] (Basic ${uuid(1)})`
    );
  });

  test('fails on two entries with the same fullUrl, naming both', () => {
    const error = thrown(() => dependencyOrder([entry(1), entry(2), entry(1)]));
    expect(error.kind).toBe('internal');
    expect(error.outcome.issue[0]!.code).toBe('duplicate');
    expect(error.outcome.issue[0]!.expression).toEqual(['Bundle.entry[0]', 'Bundle.entry[2]']);
  });
});

describe('splitTransaction', () => {
  test.each(goldenBundles)(
    '%s: parts of at most 8 entries, each referencing only its own or earlier parts',
    (_name, bundle) => {
      const parts = splitTransaction(bundle, 8);
      const entries = bundle.entry!;
      expect(parts).toHaveLength(Math.ceil(entries.length / 8));
      expect(parts.flatMap((p) => p.entry!.map((e) => e.fullUrl)).sort()).toEqual(
        entries.map((e) => e.fullUrl).sort()
      );
      const partOf = new Map(parts.flatMap((p, i) => p.entry!.map((e) => [e.fullUrl!, i] as const)));
      parts.forEach((part, i) => {
        expect(part.type).toBe('transaction');
        expect(part.entry!.length).toBeLessThanOrEqual(8);
        for (const e of part.entry!) {
          for (const target of mentioned(e.resource).filter((t) => partOf.has(t))) {
            expect(partOf.get(target)!).toBeLessThanOrEqual(i);
          }
        }
      });
    }
  );

  test('returns a Bundle that fits as it is, even with a cycle (one transaction resolves it)', () => {
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [entry(1, [2]), entry(2, [1])],
    };
    const parts = splitTransaction(bundle, 8);
    expect(parts).toHaveLength(1);
    expect(parts[0]).toBe(bundle);
  });

  test('fails on a cycle in a Bundle that does not fit', () => {
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [entry(1, [2]), entry(2, [1]), entry(3)],
    };
    expect(thrown(() => splitTransaction(bundle, 2)).outcome.issue[0]!.expression).toEqual([
      'Bundle.entry[0]',
      'Bundle.entry[1]',
    ]);
  });

  test('refuses a part size that is not a positive integer', () => {
    const bundle: Bundle = { resourceType: 'Bundle', type: 'transaction', entry: [entry(1)] };
    for (const size of [0, -1, 2.5, Number.NaN]) {
      expect(thrown(() => splitTransaction(bundle, size)).kind).toBe('internal');
    }
  });
});

describe('resolveWritten', () => {
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      {
        ...entry(3, [1, 2, 4]),
        resource: {
          ...entry(3, [1, 2, 4]).resource!,
          text: {
            status: 'generated',
            div: `<div xmlns="http://www.w3.org/1999/xhtml"><a href="${uuid(1)}">x</a></div>`,
          },
        } as Resource,
      },
      entry(4, [3]),
    ],
  };
  const written = new Map([
    [uuid(1), 'Condition/c-1'],
    [uuid(2), 'Observation/o-2'],
  ]);

  test('replaces every placeholder of a written resource by its Type/id, in references and narrative', () => {
    const [first] = resolveWritten(bundle, written).entry!;
    const references = (
      first!.resource as { extension: { valueReference: { reference: string } }[] }
    ).extension.map((x) => x.valueReference.reference);
    expect(references).toEqual(['Condition/c-1', 'Observation/o-2', uuid(4)]);
    expect((first!.resource as { text: { div: string } }).text.div).toContain('href="Condition/c-1"');
  });

  test("keeps placeholders of the Bundle's own entries, fullUrls and requests, and does not touch its input", () => {
    const before = structuredClone(bundle);
    const resolved = resolveWritten(bundle, written);
    expect(bundle).toEqual(before);
    expect(resolved.entry!.map((e) => [e.fullUrl, e.request])).toEqual(
      bundle.entry!.map((e) => [e.fullUrl, e.request])
    );
    expect(resolved.entry![1]).toEqual(bundle.entry![1]);
    expect(mentioned(resolved.entry![0]!.resource)).toEqual([uuid(4)]);
  });

  test('changes nothing when nothing was written yet', () => {
    expect(resolveWritten(bundle, new Map())).toEqual(bundle);
  });
});
