import { evaluate } from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expressionReads } from '../../../src/core/extract/expression-reads';
import { compileFhirPath } from '../../../src/core/fhirpath/fhirpath';

describe('expressionReads: what a template expression depends on', () => {
  test.each([
    ['%resource.subject', false, ['resource']],
    ["'QuestionnaireResponse/' + %resource.id", false, ['resource']],
    ["%resource.item.where(linkId = 'a' and answer.value = true).exists()", false, ['resource']],
    ['iif(%resource.item.exists(), %resource.subject, %resource.author)', false, ['resource']],
    ["%resource.item.where(iif($this.linkId = 'a', true, false))", false, ['resource']],
    ['%semenVolumeObsId', false, ['semenVolumeObsId']],
    ["'fixed'", false, []],
    ['{}', false, []],
    ['%a is Coding', false, ['a']],
    ['reference', true, []],
    ['answer.value.code', true, []],
    ['$this', true, []],
    ['exists()', true, []],
    ["iif(answer.value.code = 'refuted', 'inactive', 'active')", true, []],
    ['x.iif(y, 1, 2)', true, []],
    ["where(linkId = 'a')", true, []],
    ['%context.x', true, []],
    // Arguments fhirpath.js runs on $this (the context at the top level) read the context.
    ['%resource.combine(item)', true, ['resource']],
    ['%resource.item.ofType(Coding)', true, ['resource']],
  ])('%s', (expression, context, variables) => {
    expect(expressionReads(expression)).toEqual({ context, variables });
  });

  test.each([
    'item.where(', // does not parse
    '%resource.item.select(iif(now() > @2020, 1, 2))', // a clock
    "today() + '1'",
    '%`vs-x`', // a quoted name
    "%'x'",
  ])('%s is evaluated every time', (expression) => {
    expect(expressionReads(expression)).toBeUndefined();
  });

  // Soundness, against fhirpath.js and the compiled closures that run: an expression said not to
  // read its context gives the same result (or the same error) on every context.
  const response = {
    resourceType: 'QuestionnaireResponse',
    id: 'qr1',
    status: 'completed',
    subject: { reference: 'Patient/p1', display: 'P One' },
    author: { reference: 'Practitioner/d1' },
    item: [
      {
        linkId: 'a',
        answer: [{ valueBoolean: true }, { valueCoding: { system: 'http://s', code: 'c' } }],
        item: [{ linkId: 'b', answer: [{ valueString: 's' }] }],
      },
      { linkId: 'c', answer: [{ valueInteger: 3 }] },
    ],
  };
  const contexts: { context: unknown; base?: string }[] = [
    { context: response },
    { context: response.item[0], base: 'QuestionnaireResponse.item' },
    { context: response.item[0]!.item![0], base: 'QuestionnaireResponse.item' },
    { context: response.item[1], base: 'QuestionnaireResponse.item' },
  ];
  const env = { resource: response, rootResource: response, v: 'x' };

  const outcome = (run: () => unknown[]): string => {
    try {
      return JSON.stringify(run());
    } catch (err) {
      return `error: ${err instanceof Error ? err.message : String(err)}`;
    }
  };

  // Expressions of three levels: paths, then paths whose function arguments are paths, and so on;
  // leading terms mostly %resource, so that many expressions read no context.
  const LEADING = [
    '%resource',
    '%resource',
    '%resource',
    '%v',
    "'s'",
    '1',
    'linkId',
    '$this',
    '%context',
    'answer',
  ];
  const STEPS = ['.item', '.linkId', '.answer', '.value', '.first()', '.count()', '.exists()', '.code'];
  const FREE = ['%resource', '%v', "'s'", '1'];
  const level = (sub: fc.Arbitrary<string> | undefined, leading = LEADING): fc.Arbitrary<string> => {
    const term = sub
      ? fc.oneof(
          { arbitrary: fc.constantFrom(...leading), weight: 6 },
          fc.tuple(sub, sub, sub).map(([c, a, b]) => `iif(${c}, ${a}, ${b})`),
          sub.map((e) => `where(${e})`),
          sub.map((e) => `exists(${e})`)
        )
      : fc.constantFrom(...leading, 'exists()');
    const step = sub
      ? fc.oneof(
          fc.constantFrom(...STEPS),
          sub.map((e) => `.where(${e})`),
          sub.map((e) => `.exists(${e})`),
          sub.map((e) => `.select(${e})`),
          sub.map((e) => `.all(${e})`),
          fc.tuple(sub, sub).map(([a, b]) => `.iif(${a}, ${b})`),
          sub.map((e) => `.combine(${e})`)
        )
      : fc.constantFrom(...STEPS);
    const path = fc.tuple(term, fc.array(step, { maxLength: 3 })).map(([t, s]) => t + s.join(''));
    return fc.oneof(
      path,
      fc.tuple(path, fc.constantFrom(' = ', ' + ', ' and ', ' | '), path).map(([a, op, b]) => a + op + b)
    );
  };
  const inner = level(level(undefined));
  // Half start from the response or a literal at the top level, half from anything.
  const expr = fc.oneof(level(inner), level(inner, FREE));

  test('generated expressions said not to read the context give one result on every context', () => {
    let contextFree = 0;
    fc.assert(
      fc.property(expr, (expression) => {
        const reads = expressionReads(expression);
        if (!reads || reads.context) {
          return;
        }
        contextFree++;
        const oracle = contexts.map(({ context, base }) =>
          outcome(() => evaluate(context, base ? { base, expression } : expression, env, r4) as unknown[])
        );
        expect(new Set(oracle).size).toBe(1);
        const compiled = contexts.map(({ context, base }) =>
          outcome(() => compileFhirPath(expression, base)(context, env))
        );
        expect(new Set(compiled).size).toBe(1);
      }),
      { numRuns: 800 }
    );
    expect(contextFree).toBeGreaterThan(100);
  });

  test('the shipped templates: half of their expressions read no context', () => {
    const questionnaire = JSON.parse(
      readFileSync(join(__dirname, '../../../profiles/Questionnaire-re-evaluation.json'), 'utf8')
    ) as unknown;
    const expressions: string[] = [];
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) {
        value.forEach(walk);
      } else if (typeof value === 'object' && value !== null) {
        const ext = value as { url?: unknown; valueString?: unknown };
        if (
          typeof ext.url === 'string' &&
          ext.url.includes('templateExtract') &&
          typeof ext.valueString === 'string'
        ) {
          expressions.push(ext.valueString);
        }
        Object.values(value).forEach(walk);
      }
    };
    walk(questionnaire);
    expect(expressions.length).toBeGreaterThan(100);
    const free = expressions.filter((e) => expressionReads(e)?.context === false);
    expect(free).toContain('%resource.subject');
    expect(free.some((e) => e.startsWith("iif(%resource.item.where(linkId = 'investigations')"))).toBe(true);
    // Each of them gives one result on every context here too.
    for (const expression of free) {
      const results = contexts.map(({ context, base }) =>
        outcome(() => evaluate(context, base ? { base, expression } : expression, env, r4) as unknown[])
      );
      expect(new Set(results).size).toBe(1);
    }
  });
});
