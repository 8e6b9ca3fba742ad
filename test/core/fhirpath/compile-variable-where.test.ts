import fc from 'fast-check';
import { compile } from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import { compileFast, type FastOutput } from '../../../src/core/fhirpath/compile';
import { copy, type Outcome } from './outcomes';

/**
 * `%name.where(child = 'text')` (the SDC variables' look-up of items by linkId), which tests a
 * variable's values as they are in the environment and types only those kept, against fhirpath.js
 * on generated responses: duplicated, missing, non-string and null linkIds, `_linkId` extensions,
 * nested items, variables given as fhirpath.js's marked results, its ResourceNodes, plain JSON or
 * mixed with primitives, one variable asked with several literals, and a response changed in place
 * between two calls of the same compiled expression. Results are compared whole, with the type and
 * lineage each engine gives them (the `__path__` marks of plain results, the nodes' fields).
 */

/** A result as a caller sees it: the value with its `__path__` mark, or a node's fields. */
function seen(value: unknown): unknown {
  if (value === null || typeof value !== 'object') {
    return value;
  }
  const node = value as {
    data?: unknown;
    path?: string;
    fhirNodeDataType?: string | null;
    propName?: string | null;
    index?: number | null;
    parentResNode?: { path?: string | null; index?: number | null } | null;
  };
  if (value.constructor !== Object && 'data' in node) {
    return {
      node: JSON.parse(JSON.stringify(node.data ?? null)) as unknown,
      path: node.path,
      type: node.fhirNodeDataType,
      prop: node.propName,
      index: node.index,
      parent: node.parentResNode ? [node.parentResNode.path, node.parentResNode.index] : null,
    };
  }
  const meta = (value as { __path__?: typeof node }).__path__;
  return {
    value: JSON.parse(JSON.stringify(value)) as unknown,
    mark: meta
      ? {
          path: meta.path,
          type: meta.fhirNodeDataType,
          prop: meta.propName,
          index: meta.index,
          parent: meta.parentResNode ? [meta.parentResNode.path, meta.parentResNode.index] : null,
        }
      : null,
  };
}

const primitiveExtension = fc.constant({ extension: [{ url: 'http://e', valueString: 'x' }] });
const linkId = fc.oneof(
  { arbitrary: fc.constantFrom<unknown>('a', 'b', 'c'), weight: 6 },
  {
    arbitrary: fc.constantFrom<unknown>(1, true, false, null, ['a', 'b'], ['a'], {}, '2024-05-01'),
    weight: 1,
  }
);
const leaf = fc.record(
  {
    linkId,
    _linkId: fc.oneof(
      { arbitrary: primitiveExtension, weight: 1 },
      { arbitrary: fc.constant(undefined), weight: 9 }
    ),
    answer: fc.constantFrom<unknown>(
      [{ valueBoolean: true }],
      [{ valueString: 'x' }, { valueCoding: { code: 'c' } }]
    ),
  },
  { requiredKeys: [] }
);
const item = fc.record(
  {
    linkId,
    item: fc.array(leaf, { maxLength: 3 }),
    answer: fc.constantFrom<unknown>([{ valueBoolean: false }]),
  },
  { requiredKeys: [] }
);
const response = fc
  .array(item, { maxLength: 5 })
  .map((items) => ({ resourceType: 'QuestionnaireResponse', status: 'completed', item: items }));

/** How the variable reaches the engine: the forms the engine and its callers pass. */
type Form = 'marked' | 'nested' | 'nodes' | 'json' | 'mixed' | 'single';
const forms: readonly Form[] = ['marked', 'nested', 'nodes', 'json', 'mixed', 'single'];

function variableOf(form: Form, qr: { item: unknown[] }): unknown {
  switch (form) {
    case 'marked':
      return compile('item', r4)(qr, {});
    case 'nested':
      return compile('item.item', r4)(qr, {});
    case 'nodes':
      return compile('item', r4, { resolveInternalTypes: false })(qr, {});
    case 'json':
      return qr.item; // the response's own array: changed in place below
    case 'mixed':
      return [...qr.item, null, 'a'];
    case 'single':
      return qr.item[0] ?? null;
  }
}

const expressions = [
  "%v.where(linkId = 'a')",
  "%v.where(linkId = 'b')",
  "%v.where(linkId != 'a')",
  '%v.where(linkId = true)',
  "%v.where(linkId = 'a').item",
  "%v.where(linkId = 'a').answer.value",
  "%v.where(linkId = 'a') | %v.where(linkId = 'b')",
  "%v.where(linkId = 'a').exists() and %v.where(linkId = 'c').empty()",
  "%v.where(linkId = 'b').count()",
  "%v.select(linkId) | %v.where(linkId = 'c').linkId",
];

/**
 * `where()` criteria of `chain = literal` tests joined by `and` and `or` (the content's
 * `%features.where(linkId = '…' and answer.value = true)`), on a variable and on a member.
 */
const joinedCriteria = [
  "%v.where(linkId = 'a' and answer.value = true)",
  "%v.where(linkId = 'a' and answer.value = false)",
  "%v.where(linkId = 'b' or answer.value = true)",
  "%v.where(linkId != 'a' and answer.value != 'x')",
  "%v.where((linkId = 'a') and (answer.value = true or linkId = 'c'))",
  "%v.where(answer.value = 'x' or answer.value = true).linkId",
  "%v.where(linkId = 'a' and answer.value = true).exists()",
  "%v.where(linkId = 'a' and item.linkId = 'b').empty()",
  "%v.where(item.answer.value = true and linkId = 'a')",
  "item.where(linkId = 'a' and answer.value = false)",
  "item.item.where(linkId = 'c' or answer.value = true).linkId",
];

/**
 * The keyed `where()` with a focus-free right side (the calculation's
 * `%qitem.answerOption.value.where(code = iif(…))`), with a criterion member named as a type (`code`,
 * which fhirpath.js type-tests first: null and primitive items hand over), and with a trailing
 * `exists()` or `empty()` that only counts the kept values (but for a receiver the memo shares).
 */
const widerCriteria = [
  "%v.where(linkId = iif(%v.exists(), 'a', 'b'))",
  "%v.where(linkId = iif(%v.count() > 2, 'a', {})).linkId",
  '%v.where(linkId = %v.first().linkId)',
  "%v.where(linkId != ('a' | 'b'))",
  "%v.where(linkId = 'a' and answer.value = iif(%v.empty(), false, true))",
  "item.where(linkId = iif(%v.exists(), 'c', 'a')).answer.value",
  "%v.answer.value.where(code = 'c')",
  "%v.item.answer.value.where(code = iif(%v.exists(), 'c', {}))",
  "%v.where(code = 'c' or linkId = 'a')",
  "%v.answer.value.where(code != 'c').exists()",
  "%v.where(linkId = 'a' and answer.value = true).empty()",
  "%v.where(linkId = 'b').exists()",
  "item.where(linkId = 'a' or answer.value = false).exists()",
  "item.item.where(linkId = iif(%v.exists(), 'c', 'b')).empty()",
  "%v.where(linkId = 'a').exists() or %v.where(linkId = 'a').empty()",
  "%v.where(code = iif(%v.exists(), 'c', 'a')).exists()",
];

function theirs(expression: string, output: FastOutput, qr: unknown, env: Record<string, unknown>): Outcome {
  try {
    const fn = compile(expression, r4, {
      resolveInternalTypes: output !== 'nodes',
      traceFn: () => undefined,
    });
    return { value: (fn(qr, env) as unknown[]).map(seen) };
  } catch {
    return { error: true };
  }
}

function ours(fast: ReturnType<typeof compileFast>, qr: unknown, env: Record<string, unknown>): Outcome {
  try {
    return { value: fast!(qr, env).map(seen) };
  } catch {
    return { handedOver: true };
  }
}

/** Changes the response in place: a linkId renamed, another removed, an item added. */
function mutate(qr: { item: Record<string, unknown>[] }): void {
  const [first, second] = qr.item;
  if (first) {
    first.linkId = first.linkId === 'a' ? 'b' : 'a';
  }
  if (second) {
    delete second.linkId;
  }
  qr.item.push({ linkId: 'a', item: [{ linkId: 'c' }] });
}

/** Every expression on generated responses, every form of variable, before and after the response changes. */
function agreeOnGenerated(expressions: readonly string[]): void {
  let answered = 0;
  let compared = 0;
  fc.assert(
    fc.property(
      response,
      fc.constantFrom(...forms),
      fc.constantFrom(...expressions),
      fc.constantFrom<FastOutput>('plain', 'nodes'),
      (qr, form, expression, output) => {
        const fast = compileFast(expression, undefined, output);
        expect(fast).toBeDefined();
        // Each engine its own copy: fhirpath.js marks the objects it returns.
        const theirQr = copy(qr);
        const ourQr = copy(qr);
        const theirEnv = { v: variableOf(form, theirQr) };
        const ourEnv = { v: variableOf(form, ourQr) };
        for (let call = 0; call < 2; call++) {
          const expected = theirs(expression, output, theirQr, theirEnv);
          const actual = ours(fast, ourQr, ourEnv);
          compared++;
          if (!('handedOver' in actual)) {
            answered++;
            expect({ expression, form, call, result: actual }).toStrictEqual({
              expression,
              form,
              call,
              result: expected,
            });
          }
          // The same compiled expression and environment objects, the data changed in place.
          mutate(theirQr);
          mutate(ourQr);
        }
      }
    ),
    { numRuns: 100 }
  );
  // Not vacuous: most calls are answered by the closure (the rest hand over to fhirpath.js).
  expect(answered).toBeGreaterThan(compared / 2);
}

describe('%name.where(child = literal) agrees with fhirpath.js', () => {
  test('on generated responses, every form of variable, before and after the response changes', () => {
    agreeOnGenerated(expressions);
  });

  test('criteria joined by and/or, with member chains (answer.value) on either side', () => {
    agreeOnGenerated(joinedCriteria);
  });

  test('focus-free right sides, criteria on a type-named member (code), and a trailing exists() or empty()', () => {
    agreeOnGenerated(widerCriteria);
  });

  test('the values kept, in order, with duplicated linkIds and several literals on one variable', () => {
    const qr = copy({
      resourceType: 'QuestionnaireResponse',
      item: [
        { linkId: 'a', text: '1' },
        { linkId: 'b', text: '2' },
        { text: 'none' },
        { linkId: 'a', text: '3' },
        { linkId: 1, text: 'number' },
      ],
    });
    const env = { v: compile('item', r4)(qr, {}) };
    const texts = (expression: string): unknown => compileFast(expression)!(qr, env);
    expect(texts("%v.where(linkId = 'a').text")).toEqual(['1', '3']);
    expect(texts("%v.where(linkId = 'b').text")).toEqual(['2']);
    expect(texts("%v.where(linkId != 'a').text")).toEqual(['2', 'number']);
    expect(texts("%v.where(linkId = 'zz')")).toEqual([]);
    const kept = compileFast("%v.where(linkId = 'a')")!(qr, env) as {
      __path__?: { path: string; index: number };
    }[];
    expect(kept.map((k) => [k.__path__?.path, k.__path__?.index])).toEqual([
      ['QuestionnaireResponse.item', 0],
      ['QuestionnaireResponse.item', 3],
    ]);
  });

  test('hands over what the general path hands over: an extension on a value not kept, a non-JSON value', () => {
    const withExtension = {
      resourceType: 'QuestionnaireResponse',
      item: [{ linkId: 'a' }, { _linkId: { id: 'x' } }],
    };
    const fast = compileFast("%v.where(linkId = 'a')")!;
    expect(() => fast(withExtension, { v: withExtension.item })).toThrow();
    expect(() => fast({}, { v: [{ linkId: 'b' }, new Date()] })).toThrow();
    expect(() => fast({}, { v: [{ linkId: 'b' }, 3] })).toThrow();
  });
});
