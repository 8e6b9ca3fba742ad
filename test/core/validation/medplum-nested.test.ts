import fc from 'fast-check';
import type { TypedValue } from '@medplum/core';
import { getNestedProperty } from '@medplum/core';
import { ensureIndexed } from '../../../src/core/validation/definitions';
import { nestedProperty } from '../../../src/core/validation/medplum-nested';
import { r4Definitions } from '../../helpers/validation';

// Medplum's own `getNestedProperty` is the oracle: wherever the direct reading answers, it must give
// the same values, types, paths and grouping, with and without paths.

beforeAll(() => {
  ensureIndexed(r4Definitions(), ['Condition', 'Observation', 'CarePlan']);
});

const text = fc.constantFrom('', ' ', 'a', 'http://x.org/cs', '#1');
const leaf: fc.Arbitrary<unknown> = fc.oneof(
  text,
  fc.constantFrom(0, 1, true, false, null, undefined),
  fc.constant([]),
  fc.constant({}),
  fc.array(text, { maxLength: 2 })
);
const extension = fc.record(
  { url: fc.oneof(text, leaf), valueString: text, _url: fc.constant({ id: 'x' }) },
  { requiredKeys: [] }
);
const coding = fc.oneof(
  fc.record(
    {
      system: fc.oneof(text, leaf),
      code: text,
      _code: leaf,
      extension: fc.array(extension, { maxLength: 2 }),
    },
    { requiredKeys: [] }
  ),
  leaf
);
const concept = fc.oneof(
  fc.record(
    {
      id: fc.oneof(text, leaf),
      coding: fc.oneof(fc.array(coding, { maxLength: 3 }), coding),
      text: fc.oneof(text, leaf),
      _text: fc.constant({ extension: [{ url: 'u', valueString: 'v' }] }),
      extension: fc.array(extension, { maxLength: 2 }),
    },
    { requiredKeys: [] }
  ),
  leaf
);
const resource = fc.record(
  {
    resourceType: fc.constant('Condition'),
    code: concept,
    category: fc.oneof(fc.array(concept, { maxLength: 2 }), concept),
    extension: fc.array(extension, { maxLength: 2 }),
    evidence: fc.array(fc.record({ code: fc.array(concept, { maxLength: 2 }) }, { requiredKeys: [] }), {
      maxLength: 2,
    }),
    subject: fc.oneof(fc.record({ reference: text }), leaf),
    onsetString: text,
    contained: fc.constant([{ resourceType: 'Observation', status: 'final' }]),
  },
  { requiredKeys: [] }
);
const key = fc.constantFrom(
  'code.coding',
  'code.text',
  'code.id',
  'code.extension',
  'code.coding.system',
  'code.coding.extension.url',
  'category.coding.code',
  'evidence.code.coding',
  'extension.url',
  'subject.reference',
  'onset[x]',
  'onsetString',
  'contained',
  'code.$this',
  '$this',
  'nothing.here',
  'code'
);
const typedRoot: fc.Arbitrary<TypedValue & { path?: string }> = fc.oneof(
  resource.map((value) => ({ type: 'Condition', value, path: 'Condition' })),
  resource.map((value) => ({ type: 'Condition', value })),
  concept.map((value) => ({ type: 'CodeableConcept', value, path: 'Condition.code' })),
  extension.map((value) => ({ type: 'Extension', value }))
);

describe("the direct reading of Medplum's nested properties", () => {
  test("equals Medplum's getNestedProperty wherever it answers (with and without paths)", () => {
    let answered = 0;
    let deferred = 0;
    fc.assert(
      fc.property(typedRoot, key, fc.boolean(), (root, path, withPath) => {
        const direct = nestedProperty(root, path.split('.'), withPath);
        if (direct === undefined) {
          deferred++;
          return;
        }
        answered++;
        const oracle = withPath
          ? getNestedProperty(root as TypedValue & { path: string }, path, { withPath: true })
          : getNestedProperty(root, path);
        expect(direct).toStrictEqual(oracle);
      }),
      { numRuns: 200 }
    );
    // Not vacuous: both ways are taken.
    expect(answered).toBeGreaterThan(40);
    expect(deferred).toBeGreaterThan(10);
  });

  test('defers on a primitive extension, a choice, a contained resource and $this', () => {
    const condition = {
      resourceType: 'Condition',
      code: { text: 'a', _text: { id: 'x' } },
      onsetString: 'x',
    };
    const root = { type: 'Condition', value: condition, path: 'Condition' };
    expect(nestedProperty(root, ['code', 'text'], true)).toBeUndefined();
    expect(nestedProperty(root, ['onset[x]'], true)).toBeUndefined();
    expect(nestedProperty(root, ['onsetString'], false)).toBeUndefined();
    expect(nestedProperty(root, ['contained'], false)).toBeUndefined();
    expect(nestedProperty(root, ['$this'], false)).toBeUndefined();
    // And answers a plain element as Medplum does.
    expect(nestedProperty(root, ['code'], true)).toStrictEqual(
      getNestedProperty(root, 'code', { withPath: true })
    );
  });
});
