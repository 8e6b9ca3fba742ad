import fc from 'fast-check';
import { runInNewContext } from 'node:vm';
import {
  contentFingerprint,
  contentSnapshot,
  matchesSnapshot,
  MAX_DEPTH,
  sameContent,
} from '../../../src/core/operations/json-content';

/** JSON text that also tells -0 from 0 and a number from a string: the equality sameContent means. */
function exactText(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'number' ? `n${Object.is(v, -0) ? '-0' : String(v)}` : typeof v === 'string' ? `s${v}` : v
  );
}

const json = fc.jsonValue({ maxDepth: 4 });

/** The same value with one leaf changed (a string's character, a number, a boolean) or a key renamed. */
function mutate(value: unknown, pick: number): { value: unknown; changed: boolean } {
  let seen = 0;
  let changed = false;
  const walk = (v: unknown): unknown => {
    const mine = seen++ === pick;
    if (typeof v === 'string') {
      if (!mine || v.length === 0) return v;
      changed = true;
      const i = Math.min(1, v.length - 1); // A character the fingerprint may not sample.
      return v.slice(0, i) + String.fromCharCode(v.charCodeAt(i) ^ 1) + v.slice(i + 1);
    }
    if (typeof v === 'number') {
      if (!mine) return v;
      changed = true;
      return v + 1 === v ? -v || 1 : v + 1;
    }
    if (typeof v === 'boolean') {
      if (!mine) return v;
      changed = true;
      return !v;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v).map(([k, x]) => [k, walk(x)] as const);
      if (mine && entries.length > 0 && !(`${entries[0]![0]}~` in v)) {
        changed = true;
        entries[0] = [`${entries[0]![0]}~`, entries[0]![1]];
      }
      return Object.fromEntries(entries);
    }
    return v;
  };
  const out = walk(value);
  return { value: out, changed };
}

describe('content identity of plain JSON (fingerprint, comparison)', () => {
  test('equal content: same fingerprint and sameContent, whatever object holds it', () => {
    fc.assert(
      fc.property(json, (value) => {
        const copy = JSON.parse(JSON.stringify(value)) as unknown;
        expect(contentFingerprint(value)).toBeDefined();
        expect(contentFingerprint(copy)).toBe(contentFingerprint(value));
        expect(sameContent(value, copy)).toBe(exactText(value) === exactText(copy));
      }),
      { numRuns: 300 }
    );
  });

  test('sameContent is exactly equality of the JSON text (keys in order, numbers and strings apart)', () => {
    fc.assert(
      fc.property(json, json, (a, b) => {
        expect(sameContent(a, b)).toBe(exactText(a) === exactText(b));
      }),
      { numRuns: 500 }
    );
  });

  test('one changed leaf or key is never the same content, even where the fingerprint collides', () => {
    fc.assert(
      fc.property(json, fc.nat(50), (value, pick) => {
        const { value: other, changed } = mutate(value, pick);
        fc.pre(changed);
        expect(exactText(other)).not.toBe(exactText(value));
        expect(sameContent(value, other)).toBe(false);
        expect(sameContent(other, value)).toBe(false);
      }),
      { numRuns: 500 }
    );
  });

  test('whatever the given value holds, "same content" means it is plain JSON equal to the remembered one', () => {
    const odd = fc.anything({
      maxDepth: 3,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withSparseArray: true,
      withTypedArray: true,
    });
    fc.assert(
      fc.property(odd, (given) => {
        // The remembered content: the JSON reading of the given value, when it has one.
        let text: string | undefined;
        try {
          text = JSON.stringify(given);
        } catch {
          return; // BigInt: no JSON reading.
        }
        fc.pre(text !== undefined);
        const remembered = JSON.parse(text) as unknown;
        const same = sameContent(remembered, given);
        expect(same).toBe(
          contentFingerprint(given) !== undefined && exactText(remembered) === exactText(given)
        );
      }),
      { numRuns: 500 }
    );
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    expect(sameContent([[[]]], cyclic)).toBe(false); // Ends within the remembered value's depth.
    expect(sameContent({}, new Date(0))).toBe(false);
    expect(sameContent({ a: {} }, { a: new Map() })).toBe(false);
    expect(sameContent({}, Object.create(null))).toBe(false);
    expect(sameContent({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    // eslint-disable-next-line no-sparse-arrays
    expect(sameContent([null], [,])).toBe(false);
  });

  test('key order is content', () => {
    expect(sameContent({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(false);
    expect(sameContent({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(sameContent({ a: 1, b: 2 }, { a: 1 })).toBe(false);
    expect(sameContent([1, 2], [1, 2, 3])).toBe(false);
    expect(sameContent({ 0: 'x' }, ['x'])).toBe(false);
    expect(sameContent(['x'], { 0: 'x' })).toBe(false);
    expect(sameContent(0, -0)).toBe(false);
    expect(sameContent('1', 1)).toBe(false);
    expect(sameContent(null, {})).toBe(false);
  });

  test('a __proto__ key (JSON.parse makes it an own property) is content like any other', () => {
    const a = JSON.parse('{"__proto__": {"x": 1}, "y": 2}') as unknown;
    const b = JSON.parse('{"__proto__": {"x": 2}, "y": 2}') as unknown;
    expect(contentFingerprint(a)).toBeDefined();
    expect(sameContent(a, JSON.parse('{"__proto__": {"x": 1}, "y": 2}'))).toBe(true);
    expect(sameContent(a, b)).toBe(false);
  });

  test('what is not plain JSON has no fingerprint', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    let deep: unknown = 'leaf';
    for (let i = 0; i <= MAX_DEPTH; i++) deep = [deep];
    // eslint-disable-next-line no-sparse-arrays
    const holes = [1, , 3];
    for (const odd of [
      undefined,
      { a: undefined },
      [undefined],
      NaN,
      { n: Infinity },
      { d: new Date(0) },
      new Map(),
      Object.create(null) as object,
      () => 1,
      { f: () => 1 },
      Symbol('s'),
      BigInt(1),
      holes,
      cyclic,
      deep,
    ]) {
      expect(contentFingerprint(odd)).toBeUndefined();
    }
    let shallow: unknown = 'leaf';
    for (let i = 0; i < MAX_DEPTH; i++) shallow = [shallow];
    expect(contentFingerprint(shallow)).toBeDefined();
  });
});

/** The comparison with a snapshot (what interning uses) against sameContent, its oracle. */
describe('comparison with a snapshot of the remembered content', () => {
  const agrees = (remembered: unknown, given: unknown): void => {
    expect(matchesSnapshot(contentSnapshot(remembered), given)).toBe(sameContent(remembered, given));
  };

  test('equal and unequal JSON values: the same answer as sameContent', () => {
    fc.assert(
      fc.property(json, json, (a, b) => {
        agrees(a, b);
        agrees(a, JSON.parse(JSON.stringify(a)));
        expect(matchesSnapshot(contentSnapshot(a), JSON.parse(JSON.stringify(a)))).toBe(
          exactText(a) === exactText(JSON.parse(JSON.stringify(a)))
        );
      }),
      { numRuns: 100 }
    );
  });

  test('one changed leaf or key is never a match', () => {
    fc.assert(
      fc.property(json, fc.nat(50), (value, pick) => {
        const { value: other, changed } = mutate(value, pick);
        fc.pre(changed);
        expect(matchesSnapshot(contentSnapshot(value), other)).toBe(false);
        expect(matchesSnapshot(contentSnapshot(other), value)).toBe(false);
      }),
      { numRuns: 100 }
    );
  });

  test('whatever the given value holds (Dates, Maps, holes, null prototypes, cycles): as sameContent', () => {
    const odd = fc.anything({
      maxDepth: 3,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withSparseArray: true,
      withTypedArray: true,
    });
    fc.assert(
      fc.property(odd, (given) => {
        let text: string | undefined;
        try {
          text = JSON.stringify(given);
        } catch {
          return;
        }
        fc.pre(text !== undefined);
        agrees(JSON.parse(text) as unknown, given);
      }),
      { numRuns: 100 }
    );
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    agrees([[[]]], cyclic);
    for (const [remembered, given] of [
      [{}, new Date(0)],
      [{ a: {} }, { a: new Map() }],
      [{}, Object.create(null)],
      [{ a: 1 }, { a: 1, b: undefined }],
      [
        { a: 1, b: 2 },
        { b: 2, a: 1 },
      ],
      [{ 0: 'x' }, ['x']],
      [['x'], { 0: 'x' }],
      [[0], [-0]],
      [{ n: -0 }, { n: 0 }],
      [['1'], [1]],
      [JSON.parse('{"__proto__": {"x": 1}, "y": 2}'), JSON.parse('{"__proto__": {"x": 1}, "y": 2}')],
      [JSON.parse('{"__proto__": {"x": 1}, "y": 2}'), JSON.parse('{"__proto__": {"x": 2}, "y": 2}')],
    ] as const) {
      agrees(remembered, given);
    }
  });

  test("another realm's objects are compared by their own keys", () => {
    const given = runInNewContext('({ a: [1, { b: "c" }], d: null })') as unknown;
    expect(matchesSnapshot(contentSnapshot({ a: [1, { b: 'c' }], d: null }), given)).toBe(true);
    expect(matchesSnapshot(contentSnapshot({ a: [1, { b: 'x' }], d: null }), given)).toBe(false);
    expect(matchesSnapshot(contentSnapshot({ d: null, a: [1, { b: 'c' }] }), given)).toBe(false);
  });

  test('an enumerable key inherited from a polluted Object.prototype is not taken for an own key', () => {
    Object.defineProperty(Object.prototype, 'polluted', { value: 1, enumerable: true, configurable: true });
    try {
      expect(matchesSnapshot(contentSnapshot(JSON.parse('{"polluted": 1}')), {})).toBe(false);
      expect(matchesSnapshot(contentSnapshot(JSON.parse('{"a": {"polluted": 1}}')), { a: {} })).toBe(false);
      expect(matchesSnapshot(contentSnapshot({ a: 1 }), { a: 1 })).toBe(true);
    } finally {
      delete (Object.prototype as Record<string, unknown>).polluted;
    }
    expect(matchesSnapshot(contentSnapshot({ a: 1 }), { a: 1 })).toBe(true);
  });

  test('the snapshot keeps the content as it was taken', () => {
    const value = { a: [1, 2], b: { c: 'd' } };
    const snapshot = contentSnapshot(value);
    value.a.push(3);
    value.b.c = 'e';
    expect(matchesSnapshot(snapshot, { a: [1, 2], b: { c: 'd' } })).toBe(true);
    expect(matchesSnapshot(snapshot, value)).toBe(false);
  });
});
