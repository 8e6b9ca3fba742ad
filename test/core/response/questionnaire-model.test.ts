import {
  compileQuestionnaire,
  readsContext,
  readsItems,
  scanExpression,
} from '../../../src/core/response/questionnaire-model';
import { calculateResponse } from '../../../src/core/response/calculate';
import { deepFreeze, expressionExtension, intake, questionnaire, response, variable } from './support';

// The module object questionnaire-model.ts calls parse() on (an `import *` would be a copy).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fhirpath = require('fhirpath') as { parse: (expression: string) => unknown };

describe('scanExpression', () => {
  test('replaces linkId look-ups over the whole response with a variable', () => {
    const scan = scanExpression(
      "%resource.repeat(item).where(linkId='a').answer.value > %resource . repeat( item ) . where( linkId = 'b' )"
    );
    expect(scan.source).toBe('%`rf-repeat:a`.answer.value > %`rf-repeat:b`');
    expect(scan.lookups).toEqual([
      { varName: 'rf-repeat:a', linkId: 'a', axis: 'repeat' },
      { varName: 'rf-repeat:b', linkId: 'b', axis: 'repeat' },
    ]);
    expect(scanExpression("%resource.descendants().where(linkId='c').exists()").source).toBe(
      '%`rf-descendants:c`.exists()'
    );
    const top = scanExpression("%resource.item.where(linkId = 'd').item.where(linkId='e')");
    expect(top.source).toBe("%`rf-item:d`.item.where(linkId='e')");
    expect(top.lookups).toEqual([{ varName: 'rf-item:d', linkId: 'd', axis: 'item' }]);
  });

  test('leaves string literals, comments and other shapes alone', () => {
    const text = "'%resource.repeat(item).where(linkId=''x'')' // %resource.repeat(item).where(linkId='y')";
    expect(scanExpression(text).source).toBe(text);
    for (const other of [
      "%resource.repeat(item).where(linkId='a' or linkId='b')",
      "%resource.item.where(linkId='a' and answer.exists())",
      "%resource.items.where(linkId='a')",
      "%resourceX.repeat(item).where(linkId='a')",
      "%resource.repeat(answer).where(linkId='a')",
    ]) {
      expect(scanExpression(other).lookups).toEqual([]);
    }
  });

  test('collects the user variables an expression names', () => {
    const scan = scanExpression(
      "%a + %`b c` + %'d' + %resource.count() + %context.count() + %vs-x.count() + %qitem.count() + %e-1"
    );
    expect(scan.refs).toEqual(['a', 'b c', 'd', 'e']);
  });

  test('replaces clock calls without a receiver', () => {
    const scan = scanExpression(
      "today() - 1 'a' < now() and timeOfDay() > @T10:00 and mytoday() and x.today()"
    );
    expect(scan.clock).toEqual(['today', 'now', 'timeOfDay']);
    expect(scan.source).toBe(
      "%`rf-clock:today`.toDate() - 1 'a' < %`rf-clock:now`.toDateTime() and %`rf-clock:time`.toTime() > @T10:00 and mytoday() and x.today()"
    );
  });
});

describe('readsContext', () => {
  test.each([
    ['%a + %b', false],
    ['%`rf-repeat:x`.answer.value = true', false],
    ["iif(%a > 1, 'x', 'y')", false],
    ['%a.where(code = 1).exists()', false],
    ['%a.select($this + 1)', false],
    ['%questionnaire.item.count() + %qitem.text.length()', false],
    ["item.where(linkId='x')", true],
    ['%resource.item.count()', true],
    ['%context.answer.value', true],
    ['answer.value > 1', true],
    ['$this.linkId', true],
    ['where(linkId = %a).exists()', true],
    ['iif(answer.exists(), 1, 2)', true],
    ['%a.where(%resource.id = code).exists()', true],
    ['(1 +', true],
  ])('%s → %s', (expression, expected) => {
    expect(readsContext(expression)).toBe(expected);
  });
});

describe('readsItems', () => {
  test.each([
    // Elements of the response other than item: the calculation never writes them.
    ["%resource.status = 'amended'", false, true],
    ["%resource.author.reference.matches('^Practitioner/')", false, true],
    ['iif(%a.exists(), %a, %resource.author)', false, true],
    ['%a.where(%resource.id = code).exists()', false, true],
    ['%resource.extension.url', false, true],
    // Items, however spelt, and everything that can reach them.
    ['%resource.item.count()', true, true],
    ['%resource.`item`.count()', true, true],
    ['%resource.`it\\u0065m`.count()', true, true],
    ['%resource.children().count()', true, true],
    ['%resource.descendants().count()', true, true],
    ['%resource.ofType(QuestionnaireResponse).item', true, true],
    ['%resource', true, true],
    ['%resource.status | %resource', true, true],
    ['%rootResource.status', true, true],
    ['%context.status', true, true],
    ['status', true, true],
    ['answer.value > 1', true, true],
    // Nothing of the response.
    ['%a + %b', false, false],
    ['%questionnaire.item.count() + %qitem.text.length()', false, false],
    ['(1 +', true, true],
  ])('%s → items %s, context %s', (expression, items, context) => {
    expect(readsItems(expression)).toBe(items);
    expect(readsContext(expression)).toBe(context);
  });

  test('never says "no" where readsContext says "yes" about an expression without %resource members', () => {
    // readsItems only relaxes `%resource.member`; on the readsContext table it agrees otherwise.
    for (const e of [
      "item.where(linkId='x')",
      '$this.linkId',
      'where(linkId = %a).exists()',
      'iif(answer.exists(), 1, 2)',
    ]) {
      expect(readsItems(e)).toBe(true);
    }
  });

  test('a constant stays one that reads nothing of the response, %resource members included', () => {
    const cq = compileQuestionnaire(
      questionnaire([], { extension: [variable('s', '%resource.status'), variable('k', '30')] })
    );
    expect(cq.variables.map((v) => [v.isConstant, v.readsContext, v.readsItems])).toEqual([
      [false, true, false],
      [true, false, false],
    ]);
  });
});

describe('compileQuestionnaire', () => {
  test('is cached per Questionnaire object', () => {
    const q = intake();
    expect(compileQuestionnaire(q)).toBe(compileQuestionnaire(q));
    expect(compileQuestionnaire(intake())).not.toBe(compileQuestionnaire(q));
  });

  test('never modifies the Questionnaire, even when expressions read it', () => {
    const q = deepFreeze(intake());
    const before = JSON.stringify(q);
    const result = calculateResponse(response([]), q);
    expect(result.issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect(JSON.stringify(q)).toBe(before);
  });

  test('flags badly declared variables; the first definition of a name wins', () => {
    const q = questionnaire(
      [{ linkId: 'x', type: 'integer', extension: [expressionExtension('calculatedExpression', '%a + %b')] }],
      {
        extension: [
          {
            url: 'http://hl7.org/fhir/StructureDefinition/variable',
            valueExpression: { language: 'text/fhirpath', expression: '1' },
          },
          variable('a', '1'),
          variable('a', '2'),
          variable('resource', '3'),
          variable('b', '4'),
        ],
      }
    );
    const cq = compileQuestionnaire(q);
    expect(cq.variables.map((v) => v.problem)).toEqual([
      'variable has no name',
      undefined,
      "variable 'a' is defined twice on the same node",
      "variable name 'resource' is reserved",
      undefined,
    ]);
    const result = calculateResponse(response([]), q);
    expect(result.response.item).toEqual([{ linkId: 'x', answer: [{ valueInteger: 5 }] }]);
  });

  test('marks expressions that depend only on the Questionnaire as constant', () => {
    const cq = compileQuestionnaire(
      questionnaire([], {
        extension: [
          variable('limit', '30'),
          variable('copy', '%limit'),
          variable('now', 'today()'),
          variable('r', '%resource.id'),
        ],
      })
    );
    expect(cq.variables.map((v) => v.isConstant)).toEqual([true, false, false, false]);
  });

  test('another object with the same content is analysed alike, without parsing its expressions again', () => {
    const first = compileQuestionnaire(intake());
    const parse = jest.spyOn(fhirpath, 'parse');
    try {
      const second = compileQuestionnaire(intake());
      expect(second).not.toBe(first);
      const defs = (cq: typeof first): unknown[] => [
        ...cq.variables,
        ...cq.all.flatMap((q) => [...q.variables, q.calculated, q.enableWhenExpression]),
      ];
      expect(defs(second)).toEqual(defs(first));
      expect(defs(first).filter((d) => d !== undefined).length).toBeGreaterThan(0);
      expect(parse).not.toHaveBeenCalled();
    } finally {
      parse.mockRestore();
    }
  });

  test('a long expression text is analysed each time (not kept), with the same result', () => {
    const long = `%a + '${'x'.repeat(4100)}'.length()`;
    const q = (): ReturnType<typeof questionnaire> =>
      questionnaire([], { extension: [variable('a', '1'), variable('b', long)] });
    const first = compileQuestionnaire(q());
    const parse = jest.spyOn(fhirpath, 'parse');
    try {
      const second = compileQuestionnaire(q());
      expect(second.variables).toEqual(first.variables);
      expect(parse).toHaveBeenCalledTimes(1);
    } finally {
      parse.mockRestore();
    }
  });
});
