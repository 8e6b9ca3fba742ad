import type {
  Questionnaire,
  QuestionnaireItem,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
  QuestionnaireResponseItemAnswer,
} from '@medplum/fhirtypes';
import { isQuestionEnabled } from '@medplum/react-hooks';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NO, toRenderQuestionnaire, YES } from '../../src/web/render-questionnaire';
import { buildResponse, collectAnswers, ITEM_AUTHOR_URL, parseReference } from '../../src/web/submission';

const ROOT = join(__dirname, '../..');
const source: Questionnaire = JSON.parse(
  readFileSync(join(ROOT, 'profiles/Questionnaire-re-evaluation.json'), 'utf8')
);
const rendered = toRenderQuestionnaire(source);
const EXAMPLES = ['anejaculation', 'diabetic-confirmed', 'distress-pe', 'turp-tamsulosin'];

function example(name: string): QuestionnaireResponse {
  return JSON.parse(
    readFileSync(join(ROOT, `profiles/examples/QuestionnaireResponse-re-example-${name}.json`), 'utf8')
  );
}

let nextId = 1;

/**
 * What the renderer holds after a user entered `answers`: every rendered item present (one instance
 * of each group, as the renderer builds it), item ids, rendered texts, booleans as Yes/No codings,
 * codings as expansion entries (with their extra elements), and `{}` for questions left empty.
 */
function rendererResponse(answers: readonly QuestionnaireResponseItem[]): QuestionnaireResponse {
  const build = (
    items: readonly QuestionnaireItem[] | undefined,
    given: readonly QuestionnaireResponseItem[]
  ): QuestionnaireResponseItem[] =>
    (items ?? []).flatMap((item) => {
      const matches = given.filter((g) => g.linkId === item.linkId);
      const instances = matches.length ? matches : [{ linkId: item.linkId }];
      return instances.map((instance) => ({
        id: `id-${nextId++}`,
        linkId: item.linkId,
        text: item.text,
        ...(item.type === 'group'
          ? { item: build(item.item, instance.item ?? []) }
          : { answer: instance.answer?.length ? instance.answer.map(asRendered) : [{}] }),
      }));
    });
  return {
    resourceType: 'QuestionnaireResponse',
    status: 'in-progress',
    item: build(rendered.item, answers),
  };
}

function asRendered(answer: QuestionnaireResponseItemAnswer): QuestionnaireResponseItemAnswer {
  if (answer.valueBoolean !== undefined) {
    return { valueCoding: { ...(answer.valueBoolean ? YES : NO) } };
  }
  if (answer.valueCoding) {
    // An expansion's `contains` entry, as the answer list hands it over.
    return { valueCoding: { ...answer.valueCoding, abstract: false, designation: [] } as never };
  }
  return answer;
}

function strip(items: readonly QuestionnaireResponseItem[] | undefined): unknown {
  return (items ?? []).map((i) => ({
    linkId: i.linkId,
    ...(i.answer ? { answer: i.answer } : {}),
    ...(i.item ? { item: strip(i.item) } : {}),
  }));
}

function item(linkId: string, answer: QuestionnaireResponseItemAnswer[]): QuestionnaireResponseItem {
  return { linkId, answer };
}

/** The five required questions answered No, inside their groups. */
function requiredAnswers(
  overrides: Record<string, QuestionnaireResponseItemAnswer[]> = {}
): QuestionnaireResponseItem[] {
  const a = (linkId: string): QuestionnaireResponseItem =>
    item(linkId, overrides[linkId] ?? [{ valueBoolean: false }]);
  return [
    { linkId: 'symptoms', item: [a('dry-orgasm'), a('cloudy-urine')] },
    { linkId: 'fertility', item: [a('fertility-wish')] },
    { linkId: 'risk-factors', item: [{ linkId: 'conditions', item: [a('diabetes')] }] },
    { linkId: 'associated', item: [a('bother')] },
  ];
}

function collect(response: QuestionnaireResponse): ReturnType<typeof collectAnswers> {
  return collectAnswers(source, rendered, response, isQuestionEnabled);
}

function findItem(
  items: readonly QuestionnaireResponseItem[],
  linkId: string
): QuestionnaireResponseItem | undefined {
  for (const i of items) {
    if (i.linkId === linkId) {
      return i;
    }
    const inner = findItem(i.item ?? [], linkId);
    if (inner) {
      return inner;
    }
  }
  return undefined;
}

describe('collectAnswers', () => {
  test.each(EXAMPLES)(
    'gives back exactly the answers of example %s from what the renderer holds, without problems',
    (name) => {
      const scenario = example(name);
      const { items, problems } = collect(rendererResponse(scenario.item ?? []));
      expect(problems).toEqual([]);
      expect(strip(items)).toEqual(strip(scenario.item));
    }
  );

  test('takes the text of each item from the Questionnaire, not the rendered copy with its unit', () => {
    const { items } = collect(
      rendererResponse([
        ...requiredAnswers(),
        {
          linkId: 'investigations',
          item: [{ linkId: 'semen-analysis', item: [item('semen-volume', [{ valueDecimal: 0 }])] }],
        },
      ])
    );
    expect(findItem(items, 'semen-volume')?.text).toBe('Semen volume (0 if no antegrade ejaculate)');
    expect(findItem(items, 'semen-volume')?.id).toBeUndefined();
  });

  test('drops the answer of a question that was answered and then hidden by its enableWhen', () => {
    const answers = requiredAnswers();
    answers[1] = {
      linkId: 'fertility',
      item: [
        item('fertility-wish', [{ valueBoolean: false }]),
        item('months-trying', [{ valueInteger: 10 }]),
      ],
    };
    const { items, problems } = collect(rendererResponse(answers));
    expect(problems).toEqual([]);
    expect(findItem(items, 'months-trying')).toBeUndefined();
    expect(findItem(items, 'fertility-wish')?.answer).toEqual([{ valueBoolean: false }]);
  });

  test('treats a hidden question as unanswered for the questions that depend on it', () => {
    const peu = {
      linkId: 'investigations',
      item: [
        {
          linkId: 'peu',
          item: [
            item('peu-sperm-seen', [{ valueBoolean: false }]),
            item('peu-count-method', [
              { valueCoding: { system: 'http://re-fhir.org/fhir/CodeSystem/re-answer', code: 'automated' } },
            ]),
            item('peu-sperm-per-ml', [{ valueDecimal: 1000 }]),
          ],
        },
      ],
    };
    const { items } = collect(rendererResponse([...requiredAnswers(), peu]));
    expect(findItem(items, 'peu-sperm-seen')?.answer).toEqual([{ valueBoolean: false }]);
    expect(findItem(items, 'peu-count-method')).toBeUndefined();
    expect(findItem(items, 'peu-sperm-per-ml')).toBeUndefined();
  });

  test('lists every enabled required question left empty, with its text', () => {
    const answers = requiredAnswers();
    answers[3] = { linkId: 'associated', item: [] };
    answers[2] = {
      linkId: 'risk-factors',
      item: [{ linkId: 'conditions', item: [item('diabetes', [{ valueBoolean: true }])] }],
    };
    const { problems } = collect(rendererResponse(answers));
    expect(problems.map((p) => p.linkId).sort()).toEqual(['bother', 'diabetes-type']);
    expect(problems.find((p) => p.linkId === 'bother')?.question).toBe(
      'Is the patient bothered or distressed by the ejaculatory symptoms?'
    );
    expect(problems.every((p) => p.message.length > 0)).toBe(true);
  });

  test('ignores the untouched instance of the medication group, but requires a started one to be complete', () => {
    const untouched = collect(rendererResponse(requiredAnswers()));
    expect(untouched.problems).toEqual([]);
    expect(findItem(untouched.items, 'medications')).toBeUndefined();

    const started = requiredAnswers();
    started[2] = {
      linkId: 'risk-factors',
      item: [
        { linkId: 'conditions', item: [item('diabetes', [{ valueBoolean: false }])] },
        {
          linkId: 'medications',
          item: [
            item('medication', [{ valueCoding: { system: 'http://www.whocc.no/atc', code: 'G04CA02' } }]),
          ],
        },
      ],
    };
    expect(collect(rendererResponse(started)).problems.map((p) => p.linkId)).toEqual([
      'medication-stoppable',
    ]);
  });

  test('checks ranges and whole numbers', () => {
    const answers = requiredAnswers();
    answers[3] = {
      linkId: 'associated',
      item: [
        item('shim-total', [{ valueInteger: 30 }]),
        item('pedt-total', [{ valueInteger: 2.5 }]),
        item('bother', [{ valueBoolean: false }]),
      ],
    };
    const { problems } = collect(rendererResponse(answers));
    expect(problems).toEqual([
      expect.objectContaining({ linkId: 'shim-total', message: 'Enter a value from 5 to 25.' }),
      expect.objectContaining({ linkId: 'pedt-total', message: 'Enter a whole number.' }),
    ]);
  });

  test('keeps only the Coding elements of an answer taken from an expansion', () => {
    const answers = requiredAnswers();
    answers.push({
      linkId: 'treatment-history',
      item: [
        item('prior-drug-trial', [{ valueCoding: { system: 's', version: '1', code: 'c', display: 'd' } }]),
      ],
    });
    const { items } = collect(rendererResponse(answers));
    expect(findItem(items, 'prior-drug-trial')?.answer).toEqual([
      { valueCoding: { system: 's', version: '1', code: 'c', display: 'd' } },
    ]);
  });

  test('never throws on whatever the renderer holds, and sends only typed answers of enabled, shown items', () => {
    const linkIds = [
      ...new Set(
        JSON.stringify(rendered.item)
          .match(/"linkId":"[^"]+"/g)!
          .map((m) => m.slice(10, -1))
      ),
    ];
    const anyAnswer = fc.oneof(
      fc.constant({}),
      fc.record({ valueBoolean: fc.boolean() }),
      fc.record({ valueDecimal: fc.oneof(fc.double(), fc.constant(Number.NaN)) }),
      fc.record({ valueInteger: fc.integer() }),
      fc.record({ valueString: fc.string() }),
      fc.record({ valueDate: fc.string() }),
      fc.record({ valueCoding: fc.record({ system: fc.string(), code: fc.string() }, { requiredKeys: [] }) })
    );
    const anyItem: fc.Arbitrary<QuestionnaireResponseItem> = fc.letrec<{ item: QuestionnaireResponseItem }>(
      (tie) => ({
        item: fc.record(
          {
            linkId: fc.constantFrom(...linkIds, 'case-features', 'feature-re-status', 'unknown'),
            answer: fc.array(anyAnswer as fc.Arbitrary<QuestionnaireResponseItemAnswer>, { maxLength: 2 }),
            item: fc.array(tie('item'), { maxLength: 3 }),
          },
          { requiredKeys: ['linkId'] }
        ),
      })
    ).item;
    const types = new Map<string, string>();
    const index = (list: readonly QuestionnaireItem[] | undefined): void => {
      for (const i of list ?? []) {
        types.set(i.linkId, i.type);
        index(i.item);
      }
    };
    index(source.item);
    const allowedKey: Record<string, string[]> = {
      boolean: ['valueBoolean'],
      decimal: ['valueDecimal'],
      integer: ['valueInteger'],
      date: ['valueDate'],
      choice: ['valueCoding', 'valueString'],
    };
    fc.assert(
      fc.property(fc.array(anyItem, { maxLength: 6 }), (responseItems) => {
        const { items } = collect({
          resourceType: 'QuestionnaireResponse',
          status: 'in-progress',
          item: responseItems,
        });
        const walk = (list: readonly QuestionnaireResponseItem[]): void => {
          for (const i of list) {
            expect(i.linkId.startsWith('feature-') || i.linkId === 'case-features').toBe(false);
            for (const a of i.answer ?? []) {
              const keys = Object.keys(a);
              expect(keys).toHaveLength(1);
              expect(allowedKey[types.get(i.linkId) ?? '']).toContain(keys[0]);
            }
            expect((i.answer?.length ?? 0) > 0 || (i.item?.length ?? 0) > 0).toBe(true);
            walk(i.item ?? []);
          }
        };
        walk(items);
      }),
      { numRuns: 300 }
    );
  });
});

describe('buildResponse', () => {
  const practitioner = { reference: 'Practitioner/p1', display: 'Dr P' };
  const base = {
    questionnaire: source,
    items: requiredAnswers(),
    id: 'f1d7c1d2-0e4c-4c6e-9a8e-2f0f3c8b1a11',
    authored: '2026-11-27T10:00:00.000Z',
    subject: { reference: 'Patient/x1' },
  };

  test('is a completed response with the given id, subject and author, pointing at the Questionnaire by url|version', () => {
    const qr = buildResponse({ ...base, author: practitioner });
    expect(qr).toEqual({
      resourceType: 'QuestionnaireResponse',
      id: base.id,
      questionnaire: 'http://re-fhir.org/fhir/Questionnaire/re-evaluation|0.1.0',
      status: 'completed',
      subject: base.subject,
      authored: base.authored,
      author: practitioner,
      item: base.items,
    });
  });

  test('names the practitioner as author of the investigations group only when asked, and only on that group', () => {
    const items = [...requiredAnswers(), { linkId: 'investigations', item: [] }];
    const withAuthor = buildResponse({
      ...base,
      items,
      groupAuthors: [{ linkId: 'investigations', author: practitioner }],
    });
    const tagged = withAuthor.item?.filter((i) => i.extension?.length);
    expect(tagged?.map((i) => i.linkId)).toEqual(['investigations']);
    expect(tagged?.[0]?.extension).toEqual([{ url: ITEM_AUTHOR_URL, valueReference: practitioner }]);
    expect(JSON.stringify(buildResponse({ ...base, items }))).not.toContain(ITEM_AUTHOR_URL);
    expect(buildResponse(base).author).toBeUndefined();
  });

  test('has no item at all, rather than an empty array, when nothing was answered', () => {
    expect(buildResponse({ ...base, items: [] })).not.toHaveProperty('item');
  });
});

describe('parseReference', () => {
  test('accepts a relative literal reference of an allowed type, with an optional display', () => {
    expect(parseReference(' Patient/abc-1.2 ', ['Patient'])).toEqual({
      ok: true,
      reference: { reference: 'Patient/abc-1.2' },
    });
    expect(parseReference('PractitionerRole/r', ['Practitioner', 'PractitionerRole'], ' Dr R ')).toEqual({
      ok: true,
      reference: { reference: 'PractitionerRole/r', display: 'Dr R' },
    });
  });

  test.each([
    '',
    'abc',
    'Patient/',
    'Patient/a/b',
    'Patient/a b',
    'Practitioner/1',
    `Patient/${'x'.repeat(65)}`,
    '/Patient/1',
  ])('refuses %j as a Patient reference with a message', (input) => {
    const parsed = parseReference(input, ['Patient']);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.message).toContain('Patient/123');
  });
});
