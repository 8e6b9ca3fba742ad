import fc from 'fast-check';
import type { Resource } from '@medplum/fhirtypes';
import { createSchemaTier, schemaDefinitions } from '../../../src/core/validation/schema';
import { createSchemaCheck } from '../../../src/core/validation/schema-check';
import { checkJsonRules, MAX_JSON_DEPTH } from '../../../src/core/validation/json-rules';
import { contentFiles } from '../../helpers/content';
import type { Mutation } from '../../helpers/mutate';
import { mutate } from '../../helpers/mutate';
import { createReferenceSchemaTier } from '../../helpers/schema-reference';
import { validationGolden } from '../../helpers/validation-golden';
import { r4Schema } from '../../helpers/validation';

/**
 * The schema tier answers a resource its yes/no check accepts without ajv (issue 13). The oracle is
 * the tier as it was (test/helpers/schema-reference.ts: ajv alone, same schema, same options): the
 * issue lists must be equal, and the check never says yes where ajv finds an error. On JSON data
 * (what JSON.parse makes in this realm) its verdict must moreover be exactly ajv's, so the fast path
 * is taken wherever ajv passes; elsewhere (other prototypes, hidden members, objects of another
 * realm such as jest's structuredClone makes) it may say no and leave the answer to ajv.
 *
 * The tier's `clean` check (the same walk, holding the JSON rules too) says yes only where ajv and
 * `checkJsonRules` both find nothing, and on JSON data exactly there: the validator then skips both.
 */

const tier = createSchemaTier(r4Schema());
const oracle = createReferenceSchemaTier(r4Schema());
const { definitions, resourceTypes } = schemaDefinitions(r4Schema());
const accepts = createSchemaCheck(definitions, resourceTypes);

/** A copy made by JSON.parse in this realm (undefined for a value JSON cannot hold). */
function json(value: unknown): unknown {
  const text = JSON.stringify(value);
  return text === undefined ? undefined : JSON.parse(text);
}

/** The JSON rules' issues, for an object (the validator runs them on objects only). */
function jsonRules(value: unknown): unknown[] | undefined {
  return typeof value === 'object' && value !== null ? checkJsonRules(value) : undefined;
}

function expectSame(value: unknown): void {
  const expected = oracle.validate(value);
  expect(tier.validate(value)).toEqual(expected);
  if (accepts(value)) {
    expect(expected).toEqual([]);
  }
  if (tier.clean(value)) {
    expect(expected).toEqual([]);
    expect(jsonRules(value)).toEqual([]);
  }
  const data = json(value);
  if (data !== undefined) {
    const issues = oracle.validate(data);
    expect(tier.validate(data)).toEqual(issues);
    expect(accepts(data)).toBe(issues.length === 0);
    expect(tier.clean(data)).toBe(issues.length === 0 && jsonRules(data)?.length === 0);
  }
}

const golden = validationGolden().golden;
const content = contentFiles().map((f) => f.resource);
const seeds: Resource[] = [...golden, ...content];

/** Values that break a member in every way the schema can tell, and some it cannot. */
const badValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }), // every code point, lone surrogates too
  fc.constantFrom(
    '',
    ' ',
    'a b',
    ' a',
    'a  b',
    'a\u00a0b',
    '\u2028',
    'x\ty',
    'x\ny',
    '\ud800',
    '\udc00x',
    '😀'
  ),
  fc.constantFrom('2024-01-01', '2024-13-01', '2024-01-01T10:00:00Z', '10:00:00', '4.0.1', 'true', 'final'),
  fc.constantFrom('urn:uuid:0d5a0c6e-6e4d-4d3c-8a1a-7f3c2b1a0e9d', 'urn:oid:1.2.3', 'http://x y'),
  fc.integer(),
  fc.double(),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -0, 1.5),
  fc.boolean(),
  fc.constant(null),
  fc.constant([]),
  fc.constant({}),
  fc.array(fc.oneof(fc.string({ maxLength: 4 }), fc.integer(), fc.constant(null)), { maxLength: 3 }),
  fc.dictionary(
    fc.constantFrom('id', 'extension', 'url', 'valueString', 'x', '_id'),
    fc.string({ maxLength: 4 }),
    {
      maxKeys: 2,
    }
  ),
  // A nested resource in any member: valid where the schema wants a resource, wrong elsewhere.
  fc.constantFrom(...seeds.slice(0, 5)),
  fc.constantFrom(
    { resourceType: 'Basic', code: {} },
    { resourceType: 'NoSuchType' },
    { resourceType: 7 },
    {}
  )
);

const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  op: fc.constantFrom('delete', 'set', 'add', 'duplicate'),
  value: badValue,
  name: fc.oneof(
    fc.constantFrom(
      'extension',
      'id',
      'valueString',
      '_status',
      'resourceType',
      'contained',
      'text',
      '__proto__'
    ),
    fc.string({ maxLength: 6 })
  ),
});

describe('schema tier: the yes/no check before ajv', () => {
  test('every golden input and output and every shipped content resource passes the check, with no issues', () => {
    expect(seeds.length).toBeGreaterThan(100);
    for (const resource of seeds) {
      expect(tier.validate(resource)).toEqual([]);
      expect(oracle.validate(resource)).toEqual([]);
      expect(accepts(resource)).toBe(true);
      expect(tier.clean(resource)).toBe(true);
    }
  });

  test('mutated resources: the same issues as ajv alone', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        (seed, edits) => {
          expectSame(mutate(seed, edits));
        }
      ),
      { numRuns: 300 }
    );
  });

  test('mutated resources nested in contained and in Bundle entries: the same issues as ajv alone', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(mutation, { maxLength: 2 }),
        fc.constantFrom('contained', 'entry'),
        (seed, edits, where) => {
          const nested = mutate(seed, edits);
          const outer =
            where === 'contained'
              ? { resourceType: 'Condition', subject: { reference: 'Patient/p' }, contained: [nested] }
              : {
                  resourceType: 'Bundle',
                  type: 'collection',
                  entry: [{ resource: seed }, { resource: nested }],
                };
          expectSame(outer);
        }
      ),
      { numRuns: 300 }
    );
  });

  test('generated resources of arbitrary shape: the same issues as ajv alone', () => {
    const member = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        badValue,
        fc.array(tie('value'), { maxLength: 3 }),
        fc.dictionary(
          fc.constantFrom(
            'id',
            'extension',
            'url',
            'valueString',
            'valueBoolean',
            'coding',
            'system',
            'code',
            'x'
          ),
          tie('value'),
          { maxKeys: 3 }
        )
      ),
    })).value;
    fc.assert(
      fc.property(
        fc.constantFrom('Observation', 'Condition', 'Basic', 'Bundle', 'Parameters', 'CarePlan'),
        fc.dictionary(
          fc.constantFrom(
            'id',
            'meta',
            'status',
            'code',
            'extension',
            'contained',
            'entry',
            'parameter',
            'text',
            'zz'
          ),
          member,
          { maxKeys: 4 }
        ),
        (resourceType, members) => {
          expectSame({ ...members, resourceType });
        }
      ),
      { numRuns: 200 }
    );
  });

  test('objects of one definition one after another, their names in any order and subset: as ajv', () => {
    // The check remembers the names met at each position of an object of a definition; codings
    // whose names come in varying orders, some unknown or with bad values, make it meet changes.
    const seed = json(golden.find((r) => r.resourceType === 'Condition')!) as Record<string, unknown>;
    const coding = fc.dictionary(
      fc.constantFrom('system', 'version', 'code', 'display', 'userSelected', 'id', 'extension', 'x'),
      fc.oneof(fc.constantFrom('http://x', 'a', true), badValue),
      { maxKeys: 5 }
    );
    fc.assert(
      fc.property(
        fc.array(fc.array(coding, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 3 }),
        (codings) => {
          expectSame({ ...seed, category: codings.map((list) => ({ coding: list })) });
        }
      ),
      { numRuns: 300 }
    );
  });

  test('hidden members anywhere: clean only where ajv and the JSON rules find nothing', () => {
    const objectsIn = (value: unknown, found: Record<string, unknown>[]): Record<string, unknown>[] => {
      if (typeof value === 'object' && value !== null) {
        if (!Array.isArray(value)) {
          found.push(value as Record<string, unknown>);
        }
        for (const member of Object.values(value)) {
          objectsIn(member, found);
        }
      }
      return found;
    };
    fc.assert(
      fc.property(
        fc.constantFrom(...golden),
        fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 4 }),
        (seed, picks) => {
          const copy = json(seed);
          const objects = objectsIn(copy, []);
          for (const [at, key] of picks) {
            const object = objects[at % objects.length]!;
            const names = Object.keys(object);
            if (names.length > 0) {
              Object.defineProperty(object, names[key % names.length]!, { enumerable: false });
            }
          }
          expectSame(copy);
        }
      )
    );
    // A hidden first member with enumerable ones after it: answered without ajv.
    const condition = json(golden.find((r) => r.resourceType === 'Condition')!) as Record<string, unknown>;
    const hiddenFirst = (text: string): Record<string, unknown> => {
      const code = Object.defineProperty({}, 'text', { value: text, enumerable: false }) as Record<
        string,
        unknown
      >;
      code.coding = [{ system: 'http://x', code: 'a' }];
      return { ...condition, code };
    };
    expectSame(hiddenFirst('x'));
    expect(tier.clean(hiddenFirst('x'))).toBe(true);
    expectSame(hiddenFirst('a\u000bb')); // not a FHIR string, and ajv reads it
    expect(tier.clean(hiddenFirst('a\u000bb'))).toBe(false);
  });

  test('values that are not resources, unknown types and non-string resourceType', () => {
    for (const value of [
      null,
      undefined,
      0,
      'Patient',
      [],
      [{ resourceType: 'Basic' }],
      {},
      { resourceType: 3 },
    ]) {
      expectSame(value);
    }
    expectSame({ resourceType: 'NoSuchType' });
    expectSame({ resourceType: 'ResourceList' }); // a definition, not a resource type
    expectSame({ resourceType: 'Coding' });
  });

  test('objects JSON cannot make are answered as ajv answers them', () => {
    const seed = golden.find((r) => r.resourceType === 'Condition')!;
    const clone = (): Resource => json(seed) as Resource;
    const withHidden = (value: unknown): Resource => {
      const copy = clone();
      Object.defineProperty(copy, 'id', { value, enumerable: false });
      return copy;
    };
    expectSame(withHidden('a b')); // a non-enumerable member ajv reads as data.id
    expect(tier.validate(withHidden('a b'))).not.toEqual([]);
    expectSame(withHidden('ok'));
    const hiddenUnknown = clone();
    Object.defineProperty(hiddenUnknown, 'notAnElement', { value: 1, enumerable: false });
    expectSame(hiddenUnknown); // ajv's for…in does not see it
    // Only a hidden member: ajv reads it, the JSON rules see an empty object (clean must say no).
    const hiddenOnly = {
      ...clone(),
      code: Object.defineProperty({}, 'text', { value: 'x', enumerable: false }),
    };
    expectSame(hiddenOnly);
    expect(checkJsonRules(hiddenOnly)).not.toEqual([]);
    expectSame(Object.assign(Object.create(null) as object, clone()));
    const inherited = Object.assign(Object.create({ id: 'a b' }) as object, clone());
    Reflect.deleteProperty(inherited, 'id');
    expectSame(inherited); // ajv reads the inherited id
    expect(tier.validate(inherited)).not.toEqual([]);
    expectSame(Object.assign(Object.create({ notAnElement: 1 }) as object, clone()));
    class Holder {
      readonly kind = 'holder';
    }
    expectSame(Object.assign(new Holder(), clone())); // an own member the schema does not know
    expectSame(Object.assign(Object.create(Holder.prototype) as object, clone())); // another prototype
    expectSame({ ...clone(), id: undefined });
    expectSame({ ...clone(), notAnElement: undefined });
    expectSame({ ...clone(), onsetAge: { value: Number.NaN } });
    const sparse = clone() as unknown as { identifier: unknown[] };
    sparse.identifier = [];
    sparse.identifier[2] = { value: 'x' }; // holes: ajv checks them as undefined
    expectSame(sparse);
    expectSame({ ...clone(), meta: { profile: [, 'http://x'] } }); // eslint-disable-line no-sparse-arrays
  });

  test('the clean check at the depth limit: nested extensions, and any JSON under xhtml', () => {
    const seed = json(golden.find((r) => r.resourceType === 'Condition')!) as Record<string, unknown>;
    let cases = 0;
    // Any JSON under `text.div` (xhtml: the schema lets any value pass), deepest at levels + 1.
    for (const leaf of ['x', 1, {}, [], [[]], { a: {} }, { a: [1] }]) {
      for (const levels of [MAX_JSON_DEPTH - 3, MAX_JSON_DEPTH - 2, MAX_JSON_DEPTH - 1, MAX_JSON_DEPTH]) {
        let div: unknown = leaf;
        for (let i = 2; i < levels; i++) {
          div = i % 2 === 0 ? [div] : { v: div };
        }
        expectSame({ ...seed, text: { status: 'generated', div } });
        cases++;
      }
    }
    // Extensions of extensions, valid for the schema: the n-th at depth 2n, its tail one to three deeper.
    const tails: Record<string, unknown>[] = [
      { valueString: 'y' },
      { valueCodeableConcept: { text: 'y' } },
      { valueCodeableConcept: { coding: [{ code: 'y' }] } },
      { valueCodeableConcept: { coding: [] } },
    ];
    for (let n = MAX_JSON_DEPTH / 2 - 3; n <= MAX_JSON_DEPTH / 2 + 1; n++) {
      for (const tail of tails) {
        let extension: Record<string, unknown> = { url: 'http://x', ...tail };
        for (let i = 1; i < n; i++) {
          extension = { url: 'http://x', extension: [extension] };
        }
        expectSame({ ...seed, extension: [extension] });
        cases++;
      }
    }
    expect(cases).toBe(48);
  });

  test('a member Object.prototype gains is seen as ajv sees it', () => {
    const seed = json(golden[0]) as Resource;
    const prototype = Object.prototype as Record<string, unknown>;
    try {
      prototype.notAnElement = 1; // enumerable: ajv's for…in meets it on every object
      expect(accepts(seed)).toBe(false);
      expect(tier.validate(seed)).toEqual(oracle.validate(seed));
      expect(tier.validate(seed)).not.toEqual([]);
    } finally {
      delete prototype.notAnElement;
    }
    expect(accepts(seed)).toBe(true);
  });
});
