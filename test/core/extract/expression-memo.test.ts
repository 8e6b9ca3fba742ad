import type { QuestionnaireResponse } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { CompiledExpression } from '../../../src/core/extract/compiled-expression';
import type { Mode } from '../../../src/core/extract/compiled-expression';
import { ExpressionMemo } from '../../../src/core/extract/expression-memo';
import type { FhirPathEnv } from '../../../src/core/fhirpath/fhirpath';
import { fhirPathStats } from '../../../src/core/fhirpath/fhirpath';

/**
 * The extraction memo against the compiled expressions it stands in for: whatever it keeps, each
 * answer equals a fresh evaluation of the same expression, context and variables, and object results
 * are never shared between answers. It also runs less: an expression that reads a context the memo
 * handed out runs once per such context and set of variable values.
 */

const RESPONSE: QuestionnaireResponse = {
  resourceType: 'QuestionnaireResponse',
  id: 'qr1',
  status: 'completed',
  subject: { reference: 'Patient/p1', display: 'P. One' },
  encounter: { reference: 'Encounter/e1' },
  author: { reference: 'Practitioner/d1', display: 'Dr One' },
  item: [
    {
      linkId: 'a',
      answer: [
        { valueCoding: { system: 'http://x', code: 'c1', display: 'One' } },
        { valueCoding: { system: 'http://x', code: 'c2' } },
      ],
    },
    { linkId: 'b', answer: [{ valueInteger: 3 }] },
  ],
};

/** All FHIRPath evaluations so far (closures, fhirpath.js, and closures handing over). */
function runs(): number {
  const s = fhirPathStats();
  return s.compiled + s.interpreted + s.handedOver;
}

const env = (extra: FhirPathEnv = {}): FhirPathEnv => ({
  resource: RESPONSE,
  rootResource: RESPONSE,
  ...extra,
});

describe('ExpressionMemo', () => {
  test('an expression reading a handed-out context runs once per context and variable values', () => {
    const memo = new ExpressionMemo();
    const [subject] = memo.evaluate(
      new CompiledExpression('%resource.subject'),
      'nodes',
      undefined,
      RESPONSE,
      env()
    );
    const [author] = memo.evaluate(
      new CompiledExpression('%resource.author'),
      'nodes',
      undefined,
      RESPONSE,
      env()
    );
    const display = new CompiledExpression('display');
    const before = runs();
    expect(memo.evaluate(display, 'values', undefined, subject, env())).toEqual(['P. One']);
    expect(memo.evaluate(display, 'values', undefined, subject, env())).toEqual(['P. One']);
    expect(memo.evaluate(display, 'values', undefined, author, env())).toEqual(['Dr One']);
    expect(runs() - before).toBe(2);
    // Another value of a variable it names: run again.
    const named = new CompiledExpression("display + ' ' + %x");
    expect(memo.evaluate(named, 'values', undefined, subject, env({ x: 'a' }))).toEqual(['P. One a']);
    expect(memo.evaluate(named, 'values', undefined, subject, env({ x: 'b' }))).toEqual(['P. One b']);
    expect(memo.evaluate(named, 'values', undefined, subject, env({ x: 'a' }))).toEqual(['P. One a']);
    expect(runs() - before).toBe(4);
  });

  test('a context the memo did not hand out is evaluated each time', () => {
    const memo = new ExpressionMemo();
    const fresh = new CompiledExpression('%resource.subject').get('nodes', undefined)(RESPONSE, env());
    const display = new CompiledExpression('display');
    const before = runs();
    memo.evaluate(display, 'values', undefined, fresh[0], env());
    memo.evaluate(display, 'values', undefined, fresh[0], env());
    memo.evaluate(display, 'values', 'QuestionnaireResponse.item', RESPONSE.item![0], env());
    memo.evaluate(display, 'values', 'QuestionnaireResponse.item', RESPONSE.item![0], env());
    expect(runs() - before).toBe(4);
  });

  test('object results are fresh copies each time', () => {
    const memo = new ExpressionMemo();
    const [item] = memo.evaluate(
      new CompiledExpression("%resource.item.where(linkId = 'a')"),
      'nodes',
      undefined,
      RESPONSE,
      env()
    );
    const value = new CompiledExpression('answer.value');
    const first = memo.evaluate(value, 'values', undefined, item, env());
    const second = memo.evaluate(value, 'values', undefined, item, env());
    expect(second).toEqual(first);
    expect(first).toHaveLength(2);
    first.forEach((v, i) => expect(second[i]).not.toBe(v));
  });

  test('result lists are never shared: emptying one answer leaves the next whole', () => {
    // Kept results that are all primitives are handed out as a copied list, not copied one by one:
    // the list itself must still be new, as an array template field puts it in the resource.
    for (const [text, mode] of [
      ["'QuestionnaireResponse/' + %resource.id", 'values'],
      ['%resource.item.linkId', 'values'],
      ['%resource.item.answer.value', 'values'],
      ['%resource.subject', 'nodes'],
      ["'identifier=x|' + %resource.id", 'plain'],
    ] as const) {
      const memo = new ExpressionMemo();
      const expression = new CompiledExpression(text);
      const want = expression.get(mode, undefined)(RESPONSE, env());
      const first = memo.evaluate(expression, mode, undefined, RESPONSE, env());
      first.splice(0, first.length);
      const second = memo.evaluate(expression, mode, undefined, RESPONSE, env());
      expect(second).toHaveLength(want.length);
      second.push('changed');
      const third = memo.evaluate(expression, mode, undefined, RESPONSE, env());
      expect(third).toHaveLength(want.length);
      if (mode === 'values') {
        expect(third).toEqual(want);
      }
    }
  });

  // Any sequence of asks, on contexts handed out or not, with varying variables: each answer equals a
  // fresh evaluation.
  const CONTEXTS = [
    '%resource.subject',
    '%resource.author',
    "%resource.item.where(linkId = 'a')",
    "%resource.item.where(linkId = 'a').answer.value",
    '%resource.item',
  ];
  const READERS = [
    'reference',
    'display',
    'code',
    'answer.value',
    "iif(display.exists(), display, 'none')",
    "display + '/' + %x",
    'linkId | %resource.id',
    '%context.code',
    'answer.value.code.where($this = %x)',
  ];
  const ask = fc.record({
    context: fc.nat(CONTEXTS.length - 1),
    index: fc.nat(2),
    handedOut: fc.boolean(),
    reader: fc.nat(READERS.length - 1),
    mode: fc.constantFrom<Mode>('values', 'nodes', 'plain'),
    x: fc.constantFrom('a', 'c1', 'P. One'),
  });

  test('generated sequences of asks equal fresh evaluations', () => {
    fc.assert(
      fc.property(fc.array(ask, { minLength: 1, maxLength: 25 }), (asks) => {
        const memo = new ExpressionMemo();
        const compiled = READERS.map((r) => new CompiledExpression(r));
        const contexts = CONTEXTS.map((c) => new CompiledExpression(c));
        for (const a of asks) {
          const e = env({ x: a.x });
          const nodes = a.handedOut
            ? memo.evaluate(contexts[a.context]!, 'nodes', undefined, RESPONSE, e)
            : contexts[a.context]!.get('nodes', undefined)(RESPONSE, e);
          const context = nodes[a.index % Math.max(nodes.length, 1)];
          fc.pre(context !== undefined);
          const expression = compiled[a.reader]!;
          const got = memo.evaluate(expression, a.mode, undefined, context, e);
          const want = new CompiledExpression(READERS[a.reader]!).get(a.mode, undefined)(context, e);
          if (a.mode === 'nodes') {
            expect(got.map(plain)).toEqual(want.map(plain));
          } else {
            expect(got).toEqual(want);
          }
        }
      }),
      { numRuns: 80 }
    );
  });
});

/** A typed node's data (fhirpath.js keeps it in `data`), or the value itself. */
function plain(value: unknown): unknown {
  return typeof value === 'object' && value !== null && 'data' in value
    ? (value as { data: unknown }).data
    : value;
}
