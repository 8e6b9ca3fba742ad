import fc from 'fast-check';
import { compile } from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import type { FastOutput } from '../../../src/core/fhirpath/compile';
import { compileFast } from '../../../src/core/fhirpath/compile';
import { closure, copy, fhirpathJs } from './outcomes';

/**
 * The raw tier of the compiled closures (issue 13): a trailing member chain whose values are only
 * counted (`exists()`, `empty()`, `count()`), compared (`chain = value`) or returned as plain
 * primitives is read on the JSON without a node per step. Each shape against fhirpath.js on
 * generated data with the traps of FHIR JSON: missing keys, arrays and single values, `_field`
 * primitive extensions, choice elements, nulls in arrays, resources in `contained`, and objects that
 * are not plain JSON (which must be handed over). A closure may hand a call over (fhirpath.js then
 * answers); every answer it gives must be fhirpath.js's, and most must come from the closure.
 */

/**
 * Both engines on separate copies (fhirpath.js marks the objects it returns), each copy changed by
 * `spoil` (non-plain objects) and given variables made from it; true when the closure answered.
 */
function agree(
  expression: string,
  context: unknown,
  options: {
    env?: (context: unknown) => Record<string, unknown>;
    base?: string;
    output?: FastOutput;
    spoil?: (context: unknown) => unknown;
  } = {}
): boolean {
  const { env = () => ({}), base, output = 'plain', spoil = (c: unknown) => c } = options;
  const theirContext = spoil(copy(context));
  const theirs = fhirpathJs(expression, theirContext, env(theirContext), base);
  const ourContext = spoil(copy(context));
  const ours = closure(expression, ourContext, env(ourContext), base, output);
  if ('handedOver' in ours) {
    return false;
  }
  if (output === 'values' && 'value' in theirs) {
    // template values: the same primitives (objects are refused, so none are returned)
    expect((ours as { value: unknown[] }).value.every((v) => typeof v !== 'object')).toBe(true);
  }
  expect({ expression, result: ours }).toStrictEqual({ expression, result: theirs });
  if ('value' in theirs) {
    // objects returned carry fhirpath.js's hidden type marker, which later evaluations read
    expect(markers((ours as { value: unknown[] }).value)).toEqual(markers(theirs.value as unknown[]));
  }
  return true;
}

function markers(values: unknown[]): unknown[] {
  return values.map((v) => {
    const meta = (
      v as { __path__?: { path: unknown; fhirNodeDataType: unknown; propName: unknown; index: unknown } }
    )?.__path__;
    return meta && [meta.path, meta.fhirNodeDataType, meta.propName, meta.index];
  });
}

/** Every expression on one generated input; how many the closures answered. */
function agreeAll(
  expressions: readonly string[],
  context: unknown,
  options: Parameters<typeof agree>[2] = {}
): number {
  let answered = 0;
  for (const expression of expressions) {
    if (agree(expression, context, options)) {
      answered++;
    }
  }
  return answered;
}

const primitiveExtension = fc.constant({ extension: [{ url: 'http://e', valueString: 'x' }] });
/** A primitive, an array of them (with nulls), or an object where a primitive is expected. */
const leaf = fc.oneof(
  { arbitrary: fc.constantFrom<unknown>('a', 'b', '', '2024-05-01', true, false, 0, 1.5), weight: 6 },
  { arbitrary: fc.array(fc.constantFrom<unknown>('a', 'b', true, null), { maxLength: 3 }), weight: 2 },
  { arbitrary: fc.constantFrom<unknown>(null, {}, { code: 'a' }), weight: 1 }
);
const answer = fc.record(
  {
    valueBoolean: leaf,
    valueString: leaf,
    valueCoding: fc.constantFrom<unknown>(
      { code: 'a' },
      { system: 'http://s', code: 'b', display: 'B' },
      [{ code: 'a' }],
      null
    ),
    valueDate: fc.constantFrom<unknown>('2024-05-01', 'a'),
    valueInteger: fc.constantFrom<unknown>(0, 3, true),
    _valueBoolean: primitiveExtension,
    _valueString: primitiveExtension,
  },
  { requiredKeys: [] }
);
const item = fc.letrec((tie) => ({
  item: fc.record(
    {
      linkId: fc.oneof(
        { arbitrary: fc.constantFrom<unknown>('a', 'b'), weight: 5 },
        { arbitrary: leaf, weight: 1 }
      ),
      _linkId: primitiveExtension,
      text: leaf,
      answer: fc.oneof(
        {
          arbitrary: fc.array(
            fc.oneof({ arbitrary: answer, weight: 8 }, { arbitrary: fc.constant(null), weight: 1 }),
            { maxLength: 3 }
          ),
          weight: 5,
        },
        { arbitrary: answer, weight: 1 }
      ),
      item: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.constant(undefined),
        fc.array(tie('item'), { maxLength: 2 })
      ),
    },
    { requiredKeys: [] }
  ),
})).item;
const response = fc
  .record(
    {
      id: leaf,
      status: leaf,
      _status: primitiveExtension,
      item: fc.oneof(
        { arbitrary: fc.array(item, { maxLength: 3 }), weight: 5 },
        { arbitrary: fc.constant([null]), weight: 1 }
      ),
      text: fc.record(
        { status: leaf, div: fc.constantFrom('<div xmlns="http://www.w3.org/1999/xhtml">x</div>') },
        { requiredKeys: [] }
      ),
      contained: fc.array(
        fc.oneof(
          fc.record(
            {
              resourceType: fc.constant('QuestionnaireResponse'),
              id: leaf,
              status: leaf,
              item: fc.array(item, { maxLength: 2 }),
            },
            { requiredKeys: ['resourceType'] }
          ),
          fc.record(
            { resourceType: fc.constant('Basic'), id: leaf, code: fc.constant({ text: 'b' }) },
            { requiredKeys: ['resourceType'] }
          )
        ),
        { maxLength: 2 }
      ),
    },
    { requiredKeys: [] }
  )
  .map((body) => ({ resourceType: 'QuestionnaireResponse', ...body }));

/** Variables as the engine passes them: earlier results of fhirpath.js (typed by `__path__`), literals. */
function variables(flag: unknown, text: unknown): (qr: unknown) => Record<string, unknown> {
  return (qr) => ({
    features: compile('item', r4)(qr, {}) as unknown[],
    flag: copy(flag),
    text: copy(text),
    qr,
  });
}
const flag = fc.constantFrom<unknown>(true, false, null, [true, false], 'a');
const text = fc.constantFrom<unknown>('a', 'b', null, ['a', 'b'], true);

describe('the raw tier of compiled FHIRPath agrees with fhirpath.js', () => {
  test('member chains returned as plain values and as template values', () => {
    const expressions = [
      'status',
      'id',
      'item.linkId',
      'item.text',
      'item.answer.value',
      'item.answer.value.code',
      'item.answer.value.display',
      'item.item.answer.value',
      'item.item.item.linkId',
      'contained.id',
      'contained.status',
      'contained.item.answer.value',
      'contained.code.text',
      'text.status',
      '%qr.item.linkId',
      '%features.answer.value',
      '%features.item.linkId',
      "item.where(linkId = 'a').answer.value",
      'item.first().answer.value.code',
      '$this.item.linkId',
      '%flag.value',
      'item',
      'item.answer',
    ];
    let answered = 0;
    let runs = 0;
    fc.assert(
      fc.property(
        response,
        fc.constantFrom<FastOutput>('plain', 'values'),
        flag,
        text,
        (qr, output, f, t) => {
          runs += expressions.length;
          answered += agreeAll(expressions, qr, { env: variables(f, t), output });
        }
      ),
      { numRuns: 50 }
    );
    expect(answered).toBeGreaterThan(runs / 3);
  });

  test('exists(), empty() and count() of member chains', () => {
    const expressions = [
      'item.exists()',
      'item.answer.value.exists()',
      'item.answer.value.empty()',
      'item.answer.value.count()',
      'item.item.linkId.count()',
      'contained.item.linkId.exists()',
      'contained.id.count()',
      '%features.answer.empty()',
      'item.where(answer.value.exists() and linkId.count() = 1).count()',
      'item.where(item.answer.value.empty()).linkId',
      '$this.status.exists()',
      '%text.exists()',
    ];
    let answered = 0;
    let runs = 0;
    fc.assert(
      fc.property(response, flag, text, (qr, f, t) => {
        runs += expressions.length;
        answered += agreeAll(expressions, qr, { env: variables(f, t) });
      }),
      { numRuns: 50 }
    );
    expect(answered).toBeGreaterThan(runs / 2);
  });

  test('chain = value and != value, with literals, variables and chains on the other side', () => {
    const expressions = [
      "item.linkId = 'a'",
      'item.answer.value = true',
      "item.answer.value != 'a'",
      "item.where(answer.value = iif(%flag = true, 'a', 'b')).linkId",
      'item.where(linkId = %text).count()',
      "item.answer.where(value.code = 'a').exists()",
      'item.where(answer.value = item.linkId).count()',
      'item.linkId = item.text',
      'contained.item.answer.value != true',
      "contained.status = 'a'",
      "status = '2024-05-01'",
      'item.answer.value = %features.answer.value',
      'item.answer.value = 1.5',
      "%qr.item.item.linkId = 'b'",
      "$this.id = 'a'",
      // dates are compared by fhirpath.js as dates: handed over
      "item.answer.value = '2024-05-01'",
      "item.answer.value != '2024-05-01'",
      'item.linkId = item.answer.value',
    ];
    let answered = 0;
    let runs = 0;
    fc.assert(
      fc.property(response, flag, text, (qr, f, t) => {
        runs += expressions.length;
        answered += agreeAll(expressions, qr, { env: variables(f, t) });
      }),
      { numRuns: 50 }
    );
    expect(answered).toBeGreaterThan(runs / 3);
  });

  test('chain = value where a side is a date, dateTime or time (fhirpath.js compares them as such)', () => {
    const moment = fc.constantFrom('2024-05-01', '2024-05', '2024-05-01T10:00:00Z', '10:00:00', 'a');
    let answered = 0;
    fc.assert(
      fc.property(
        fc.constantFrom('valueDate', 'valueDateTime', 'valueTime', 'valueString'),
        moment,
        moment,
        (field, value, other) => {
          const qr = {
            resourceType: 'QuestionnaireResponse',
            item: [{ linkId: other, answer: [{ [field]: value }] }],
          };
          answered += agreeAll(
            [
              `item.answer.value = '${other}'`,
              `item.answer.value != '${other}'`,
              'item.linkId = item.answer.value',
              'item.answer.value = item.linkId',
              `item.where(answer.value = '${other}').exists()`,
            ],
            qr
          );
        }
      ),
      { numRuns: 60 }
    );
    // strings are answered; dates are handed over
    expect(answered).toBeGreaterThan(30);
  });

  test('on a base type (the calculation and extraction contexts)', () => {
    let answered = 0;
    fc.assert(
      fc.property(
        item,
        fc.constantFrom(
          'answer.value',
          'answer.value.code',
          'answer.value.exists()',
          "linkId = 'a'",
          'item.linkId'
        ),
        fc.constantFrom<FastOutput>('plain', 'values'),
        (it, expression, output) => {
          if (agree(expression, it, { base: 'QuestionnaireResponse.item', output })) {
            answered++;
          }
        }
      ),
      { numRuns: 100 }
    );
    expect(answered).toBeGreaterThan(20);
  });

  test('objects that are not plain JSON are handed over, never read', () => {
    // Each is put where a chain reads; fhirpath.js answers the call.
    const spoilers: ((qr: { item?: unknown[]; contained?: unknown[] }) => unknown)[] = [
      // an object with a prototype of its own (a polluted or class-made object)
      (qr) => {
        qr.item = [Object.assign(Object.create({ linkId: 'p' }) as object, { text: 'a' })];
        return qr;
      },
      (qr) => {
        qr.item = [
          new (class Item {
            linkId = 'a';
          })(),
        ];
        return qr;
      },
      (qr) => {
        qr.contained = [new Map([['resourceType', 'Basic']])];
        return qr;
      },
      (qr) => {
        qr.item = [{ linkId: 'a', answer: [{ valueDate: new Date(0) }] }];
        return qr;
      },
    ];
    for (const expression of [
      'item.linkId',
      'item.text.exists()',
      "item.linkId = 'a'",
      'contained.id.count()',
      'item.answer.value',
    ]) {
      for (const spoil of spoilers) {
        const qr = { resourceType: 'QuestionnaireResponse', item: [{ linkId: 'a' }] };
        const ours = spoil(copy(qr) as { item?: unknown[] });
        const fast = compileFast(expression)!;
        let handedOver = false;
        let result: unknown;
        try {
          result = fast(ours, {});
        } catch {
          handedOver = true;
        }
        // Either handed over, or (the spoiled value is not on the chain's way) fhirpath.js's answer.
        if (!handedOver) {
          const theirs = compile(expression, r4)(spoil(copy(qr) as { item?: unknown[] }), {});
          expect({ expression, result }).toEqual({ expression, result: theirs });
        }
      }
    }
    // the first two spoilers are on the way of every item chain: handed over
    expect(() =>
      compileFast('item.linkId')!(
        { resourceType: 'QuestionnaireResponse', item: [Object.create({ linkId: 'p' }) as object] },
        {}
      )
    ).toThrow();
  });
});
