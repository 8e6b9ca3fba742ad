import fc from 'fast-check';
import { compile } from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import { compileFast } from '../../../src/core/fhirpath/compile';
import {
  compileFhirPath,
  fhirPathStats,
  FhirPathError,
  resetFhirPathStats,
} from '../../../src/core/fhirpath/fhirpath';

const qr = {
  resourceType: 'QuestionnaireResponse',
  id: 'qr1',
  status: 'completed',
  authored: '2024-05-01',
  item: [
    { linkId: 'dry', answer: [{ valueBoolean: true }] },
    { linkId: 'cloudy', answer: [{ valueBoolean: false }] },
    {
      linkId: 'status',
      answer: [{ valueCoding: { system: 'http://s', code: 'confirmed', display: 'Confirmed' } }],
    },
    { linkId: 'volume', answer: [{ valueDecimal: 1.2 }] },
    { linkId: 'note', answer: [{ valueString: 'x-R1-re' }] },
  ],
};
const items = qr.item;

function fhirpathJs(
  expression: string,
  context: unknown,
  env: Record<string, unknown>,
  base?: string
): unknown[] {
  return compile(base ? { base, expression } : expression, r4)(context, env) as unknown[];
}

/** [construct, expression, context, env, base, expected] */
const CASES: [string, string, unknown, Record<string, unknown>, string | undefined, unknown[]][] = [
  ['member navigation', 'item.linkId', qr, {}, undefined, ['dry', 'cloudy', 'status', 'volume', 'note']],
  ['choice type (answer.value)', "item.where(linkId = 'dry').answer.value", qr, {}, undefined, [true]],
  ['choice type on a base', 'answer.value', items[3], {}, 'QuestionnaireResponse.item', [1.2]],
  ['choice type needs a type: untyped is empty', 'answer.value', items[0], {}, undefined, []],
  ['%variable holding a resource', '%resource.id', {}, { resource: qr }, undefined, ['qr1']],
  ['%variable, missing value', '%x.exists()', qr, { x: null }, undefined, [false]],
  ['%context and $this', "%context.item.where($this.linkId = 'note').exists()", qr, {}, undefined, [true]],
  ['%ucum', '%ucum', qr, {}, undefined, ['http://unitsofmeasure.org']],
  ['exists() / empty()', 'item.exists() and item.answer.empty().not()', qr, {}, undefined, [true]],
  ['exists(criteria)', "item.exists(linkId = 'cloudy' and answer.value = false)", qr, {}, undefined, [true]],
  ['count() and comparison', 'item.count() > 4', qr, {}, undefined, [true]],
  ['count() <= literal', 'item.count() <= 4', qr, {}, undefined, [false]],
  ['first()', 'item.first().linkId', qr, {}, undefined, ['dry']],
  ['select()', 'item.select(linkId).count()', qr, {}, undefined, [5]],
  ['iif() true branch', "iif(item.exists(), 'yes', 'no')", qr, {}, undefined, ['yes']],
  ['iif() empty otherwise', "iif(item.empty(), 'yes')", qr, {}, undefined, []],
  [
    'ofType(resource)',
    '%all.ofType(QuestionnaireResponse).id',
    {},
    { all: [qr, { resourceType: 'Patient', id: 'p' }] },
    undefined,
    ['qr1'],
  ],
  ['string equality', "status = 'completed'", qr, {}, undefined, [true]],
  ['!=', "status != 'completed'", qr, {}, undefined, [false]],
  ['equality with empty is empty', "item.where(linkId = 'none').answer.value = true", qr, {}, undefined, []],
  [
    'a Coding never equals true',
    "item.where(linkId = 'status').answer.value = true",
    qr,
    {},
    undefined,
    [false],
  ],
  ['three-valued and: empty and false', '{} and false', qr, {}, undefined, [false]],
  ['three-valued and: empty and true', '{} and true', qr, {}, undefined, []],
  ['three-valued or: empty or true', '{} or true', qr, {}, undefined, [true]],
  ['three-valued or: empty or false', '{} or false', qr, {}, undefined, []],
  ['implies: false implies empty', 'false implies {}', qr, {}, undefined, [true]],
  ['implies: empty implies true', '{} implies true', qr, {}, undefined, [true]],
  ['xor', 'true xor false', qr, {}, undefined, [true]],
  ['not() of a non-boolean singleton', "'a'.not()", qr, {}, undefined, [false]],
  ['contains', 'item.answer.value contains true', qr, {}, undefined, [true]],
  ['in', "'note' in item.linkId", qr, {}, undefined, [true]],
  ['string +', "%resource.id + '-R1-re'", {}, { resource: qr }, undefined, ['qr1-R1-re']],
  ['& with empty', "{} & 'b'", qr, {}, undefined, ['b']],
  [
    'endsWith / startsWith',
    "item.where(linkId = 'note').answer.value.endsWith('-R1-re') and 'abc'.startsWith('b')",
    qr,
    {},
    undefined,
    [false],
  ],
  ['join()', "item.linkId.join(',')", qr, {}, undefined, ['dry,cloudy,status,volume,note']],
  [
    'where() keeps a node even when its value is false',
    'item.where(answer.value).count()',
    qr,
    {},
    undefined,
    [5],
  ],
  ['an integer literal as a result', '3', qr, {}, undefined, [3]],
  [
    'a number never equals a boolean',
    "item.where(linkId = 'volume').answer.value = true",
    qr,
    {},
    undefined,
    [false],
  ],
  [
    'decimal element = integer literal',
    "item.where(linkId = 'volume').answer.value = 1",
    qr,
    {},
    undefined,
    [false],
  ],
  [
    'decimal element = decimal literal',
    "item.where(linkId = 'volume').answer.value = 1.20",
    qr,
    {},
    undefined,
    [true],
  ],
  ['decimals compare rounded to 1e-8', '%v = 0.300000001', qr, { v: 0.3 }, undefined, [true]],
  [
    'decimal element < variable',
    "item.where(linkId = 'volume').answer.value < %limit",
    qr,
    { limit: 1.5 },
    undefined,
    [true],
  ],
  ['count >= count', 'item.count() >= item.answer.count()', qr, {}, undefined, [true]],
  ['string comparison', "'abc' < 'abd'", qr, {}, undefined, [true]],
  ['union of strings', "('b' | 'a' | 'b')", qr, {}, undefined, ['b', 'a']],
  ['in a union', "'cloudy' in (item.linkId | 'x')", qr, {}, undefined, [true]],
  ['distinct() of strings', '(item.linkId | item.linkId).distinct().count()', qr, {}, undefined, [5]],
  ['where() with a count as criterion', 'item.where(answer.count()).count()', qr, {}, undefined, [5]],
  ['%`delimited` variable', '%`rf-item:x`.linkId', qr, { 'rf-item:x': items[0] }, undefined, ['dry']],
  [
    'extension(url)',
    "extension('http://e').value",
    {
      resourceType: 'Basic',
      extension: [
        { url: 'http://f', valueString: 'no' },
        { url: 'http://e', valueString: 'yes' },
      ],
    },
    {},
    undefined,
    ['yes'],
  ],
  ['all(): every item', "item.all(linkId.startsWith('') and answer.exists())", qr, {}, undefined, [true]],
  ['all(): one fails', 'item.answer.value.all($this = true)', qr, {}, undefined, [false]],
  ['all() of nothing is true', "item.where(linkId = 'none').all(false)", qr, {}, undefined, [true]],
  ['all(): a criterion of false', 'item.all(answer.value)', qr, {}, undefined, [false]],
  ['allFalse()', "item.where(linkId = 'cloudy').answer.value.allFalse()", qr, {}, undefined, [true]],
  ['allFalse() with a true', '(false | true).allFalse()', qr, {}, undefined, [false]],
  ['allFalse() of nothing', '{}.allFalse()', qr, {}, undefined, [true]],
  ['matches()', "item.linkId.where(matches('^(dry|vol)')).count()", qr, {}, undefined, [2]],
  ['matches(): dot matches a newline', "%t.matches('a.b')", qr, { t: 'a\nb' }, undefined, [true]],
  ['matches() of nothing', "{}.matches('x')", qr, {}, undefined, []],
  [
    'matches() with a pattern from data',
    'item.linkId.where(matches(%p)).count()',
    qr,
    { p: 'o' },
    undefined,
    [3],
  ],
  ['matches(): unicode classes', '%t.matches(%p)', qr, { t: 'Ünïcode', p: '^\\p{L}+$' }, undefined, [true]],
  [
    'htmlChecks() of valid XHTML',
    'htmlChecks()',
    '<div xmlns="http://www.w3.org/1999/xhtml"><p>ok</p></div>',
    {},
    'Narrative.div',
    [true],
  ],
  [
    'htmlChecks() of a script',
    'htmlChecks()',
    '<div xmlns="http://www.w3.org/1999/xhtml"><script>x</script></div>',
    {},
    'Narrative.div',
    [false],
  ],
  [
    'htmlChecks() of a plain string (System.String: no namespace needed)',
    "'<div>x</div>'.htmlChecks()",
    qr,
    {},
    undefined,
    [true],
  ],
  ['htmlChecks() of a non-string', 'item.htmlChecks()', qr, {}, undefined, []],
  [
    'a member by the parent path',
    'text.status',
    { resourceType: 'Basic', text: { status: 'generated', div: '<div/>' } },
    {},
    undefined,
    ['generated'],
  ],
  ['a number element as a result', "item.where(linkId = 'volume').answer.value", qr, {}, undefined, [1.2]],
  [
    'an earlier result as a %variable keeps its type',
    "%features.where(linkId = 'dry' and answer.value = true).exists()",
    qr,
    {},
    undefined,
    [true],
  ],
];

describe('compiled FHIRPath, construct by construct', () => {
  test.each(CASES)('%s: %s', (_name, expression, context, env, base, expected) => {
    // %features: an earlier result of fhirpath.js, which types the objects it returns
    const vars = expression.includes('%features') ? { ...env, features: fhirpathJs('item', qr, {}) } : env;
    const fast = compileFast(expression, base);
    expect(fast).toBeDefined();
    expect(fast!(context, vars)).toStrictEqual(expected);
    expect(fhirpathJs(expression, context, vars, base)).toStrictEqual(expected);
  });

  test('constructs outside the subset are refused at compile time and fhirpath.js answers', () => {
    for (const expression of [
      'item.repeat(item).linkId',
      "item.linkId.matches('^d', 'i')",
      'item.answer.value.allTrue()',
      'Patient.name',
      'item[0].linkId',
      "%'quoted'.exists()",
      "'a\\'b'",
      '1.5 - 1',
      'item.descendants().count()',
      "item.linkId.matches('(')",
    ]) {
      expect(compileFast(expression)).toBeUndefined();
    }
    resetFhirPathStats();
    expect(compileFhirPath('item.repeat(answer).count()')(qr)).toEqual([5]);
    expect(compileFhirPath('item[1].linkId')(qr)).toEqual(['cloudy']);
    expect(fhirPathStats()).toEqual({ compiled: 0, interpreted: 2, handedOver: 0 });
  });

  test('data outside the subset is handed to fhirpath.js for that call, with the same answer', () => {
    resetFhirPathStats();
    const codings = compileFhirPath('%a = %b');
    const coding = { system: 'http://s', code: 'c' };
    expect(codings(qr, { a: coding, b: { ...coding } })).toEqual([true]); // objects: deepEqual
    const date = compileFhirPath("authored = '2024-05-01'");
    expect(date(qr)).toEqual([false]); // a date is not a string to fhirpath.js
    const boolean = compileFhirPath("item.where(linkId = 'dry').answer.value = true");
    expect(boolean(qr)).toEqual([true]);
    expect(fhirPathStats()).toEqual({ compiled: 1, interpreted: 0, handedOver: 2 });
  });

  test('objects returned carry the hidden __path__ fhirpath.js would give them, lineage included', () => {
    const mine = structuredClone(qr);
    const theirs = structuredClone(qr);
    const expression = "item.where(linkId = 'status').answer.value";
    resetFhirPathStats();
    const coding = (compileFhirPath(expression)(mine) as object[])[0]!;
    expect(fhirPathStats()).toEqual({ compiled: 1, interpreted: 0, handedOver: 0 });
    const reference = (compile(expression, r4)(theirs, {}) as object[])[0]!;
    expect(coding).toEqual(reference);
    const meta = (o: object): unknown => {
      const p = (o as { __path__: Record<string, unknown> }).__path__;
      const parent = p.parentResNode as Record<string, unknown>;
      return {
        path: p.path,
        type: p.fhirNodeDataType,
        prop: p.propName,
        index: p.index,
        parent: { path: parent.path, prop: parent.propName, index: parent.index, data: parent.data },
      };
    };
    expect(meta(coding)).toEqual(meta(reference));
    expect(meta(coding)).toMatchObject({ path: 'Coding', type: 'Coding', prop: 'value' });
    // fhirpath.js reads that type back when the object is a variable: answer.value of an item
    const items = compileFhirPath("item.where(linkId = 'dry')")(mine);
    expect(compile('%i.answer.value', r4)({}, { i: items })).toEqual([true]);
  });

  test('a member of a literal is handed over: fhirpath.js reads its own decimal object', () => {
    resetFhirPathStats();
    expect(compileFhirPath('(1).value')(qr)).toEqual([1]);
    expect(fhirPathStats()).toEqual({ compiled: 0, interpreted: 0, handedOver: 1 });
  });

  test("errors are fhirpath.js's: a collection where a singleton is needed", () => {
    expect(() => compileFhirPath('item.linkId.not()')(qr)).toThrow(FhirPathError);
    expect(() => compileFhirPath('%undefinedVariable.exists()')(qr)).toThrow(
      /undefined environment variable/
    );
  });

  test('random boolean and string operands agree with fhirpath.js (fast-check)', () => {
    const operand = fc.constantFrom(
      'true',
      'false',
      '{}',
      "'a'",
      "'b'",
      "item.where(linkId = 'dry').answer.value",
      "item.where(linkId = 'status').answer.value",
      'item.linkId.first()'
    );
    const op = fc.constantFrom('and', 'or', 'implies', 'xor', '=', '!=', 'contains', 'in');
    fc.assert(
      fc.property(operand, op, operand, fc.boolean(), (a, o, b, negate) => {
        const expression = `(${a} ${o} ${b})${negate ? '.not()' : ''}`;
        const fast = compileFast(expression)!;
        let theirs: unknown;
        try {
          theirs = fhirpathJs(expression, qr, {});
        } catch {
          theirs = 'error';
        }
        let ours: unknown;
        try {
          ours = fast(qr, {});
        } catch {
          return true; // handed over: fhirpath.js answers
        }
        expect(ours).toStrictEqual(theirs);
        return true;
      }),
      { numRuns: 300 }
    );
  });

  /** Ours when the closure answers (a hand-over is fhirpath.js answering), and fhirpath.js's. */
  function bothEngines(
    expression: string,
    context: unknown,
    env: Record<string, unknown>
  ): [unknown, unknown] {
    const fast = compileFast(expression);
    expect(fast).toBeDefined();
    let theirs: unknown;
    try {
      theirs = fhirpathJs(expression, context, env);
    } catch {
      theirs = 'error';
    }
    try {
      return [fast!(context, env), theirs];
    } catch {
      return [theirs, theirs];
    }
  }

  test('matches() on random strings and patterns agrees with fhirpath.js (fast-check)', () => {
    // Mostly the content's kind of references and patterns, with newlines and non-ASCII letters.
    const text = fc.oneof(
      { arbitrary: fc.string({ maxLength: 12 }), weight: 1 },
      {
        arbitrary: fc.constantFrom('Practitioner/p-1', 'x/PractitionerRole/a.b', 'Patient/1', 'a\nb', 'Ü'),
        weight: 3,
      }
    );
    const pattern = fc.oneof(
      { arbitrary: fc.string({ maxLength: 6 }), weight: 1 },
      {
        arbitrary: fc.constantFrom(
          '^a.b$',
          '(^|/)(Practitioner|PractitionerRole)/[A-Za-z0-9.-]{1,64}$',
          '\\p{Lu}',
          '[',
          ''
        ),
        weight: 3,
      }
    );
    const value = fc.oneof(
      { arbitrary: text, weight: 6 },
      { arbitrary: fc.oneof(fc.boolean(), fc.integer(), fc.constant(null)), weight: 1 }
    );
    // one value mostly (matches() wants a singleton), sometimes none or several
    const values = fc.oneof(
      { arbitrary: value.map((v) => [v]), weight: 4 },
      { arbitrary: fc.array(value, { maxLength: 3 }), weight: 1 }
    );
    fc.assert(
      fc.property(values, pattern, (t, p) => {
        // as a variable (any pattern) and, when it needs no escapes, as a literal compiled once
        const [ours, theirs] = bothEngines('%t.matches(%p)', qr, { t, p });
        expect(ours).toStrictEqual(theirs);
        if (!/[\\']/.test(p) && compileFast(`%t.matches('${p}')`)) {
          const [o, r] = bothEngines(`%t.matches('${p}')`, qr, { t });
          expect(o).toStrictEqual(r);
        }
      }),
      { numRuns: 400 }
    );
  });

  test('all() and allFalse() on random collections agree with fhirpath.js (fast-check)', () => {
    const value = fc.oneof(fc.boolean(), fc.constantFrom('a', 0, 1, null));
    const criterion = fc.constantFrom('$this', '$this = true', '$this.not()', "$this = 'a'", 'false', '{}');
    fc.assert(
      fc.property(fc.array(value, { maxLength: 4 }), criterion, (values, c) => {
        for (const expression of [`%v.all(${c})`, '%v.allFalse()', `%v.select(${c}).allFalse()`]) {
          const [ours, theirs] = bothEngines(expression, qr, { v: values });
          expect(ours).toStrictEqual(theirs);
        }
      }),
      { numRuns: 300 }
    );
  });

  test('member = text and member navigation on random JSON agree with fhirpath.js (fast-check)', () => {
    // Values that take every branch: strings, the text itself, arrays, nulls, numbers, booleans,
    // objects (a Coding), empty objects; primitive extensions beside them.
    const value = fc.oneof(
      fc.constantFrom('a', 'b', '2024-05-01', ''),
      fc.constantFrom(null, 1, 1.5, true, false, {}, { code: 'a' }),
      fc.array(fc.constantFrom('a', 'b', null), { maxLength: 3 })
    );
    const element = fc.record(
      {
        linkId: value,
        text: value,
        _linkId: fc.constant({ extension: [{ url: 'http://e', valueString: 'x' }] }),
        answer: fc.array(fc.record({ valueString: value, valueCoding: value }, { requiredKeys: [] }), {
          maxLength: 2,
        }),
      },
      { requiredKeys: [] }
    );
    const response = fc.record(
      {
        id: value,
        status: value,
        authored: value,
        item: fc.oneof(fc.array(element, { maxLength: 3 }), element),
      },
      { requiredKeys: [] }
    );
    const expressions = [
      "item.where(linkId = 'a').count()",
      "item.where(linkId != 'a').count()",
      "item.linkId = 'a'",
      "status = 'a'",
      "authored = '2024-05-01'",
      "id != 'b'",
      "item.answer.value = 'a'",
      "item.where(text = '').linkId",
      "item.answer.where(value = 'a').exists()",
      'item.linkId',
      'item.answer.value',
    ];
    let answered = 0;
    fc.assert(
      fc.property(response, fc.constantFrom(...expressions), (body, expression) => {
        const resource = { resourceType: 'QuestionnaireResponse', ...body };
        const fast = compileFast(expression)!;
        let theirs: unknown;
        try {
          theirs = fhirpathJs(expression, structuredClone(resource), {});
        } catch {
          theirs = 'error';
        }
        let ours: unknown;
        try {
          ours = fast(resource, {});
        } catch {
          return; // handed over: fhirpath.js answers
        }
        answered++;
        expect(ours).toStrictEqual(theirs);
      }),
      { numRuns: 1500 }
    );
    // most runs are the closure's own answers, not hand-overs
    expect(answered).toBeGreaterThan(500);
  });
});
