import type { QuestionnaireResponse, QuestionnaireResponseItem } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { ATC, CS, validIntakeResponse } from './support';

/** linkIds of the intake form, plus ones it does not have. */
export const LINK_IDS = [
  'demographics',
  'intro',
  'name',
  'age',
  'birth-date',
  'sex',
  'form-version',
  'body',
  'weight',
  'height',
  'bmi',
  'obese',
  'habits',
  'smoker',
  'cigarettes-per-day',
  'ex-smoker',
  'quit-date',
  'alcohol',
  'alcohol-units',
  'medications',
  'medication',
  'dose-mg',
  'stoppable',
  'stop-reason',
  'interacts',
  'comments',
  'summary',
  'risk-score',
  'high-risk',
  'risk-level',
  'flags',
  'unknown-item',
  '',
];

const coding = fc.record(
  {
    system: fc.constantFrom(CS, ATC, 'http://other'),
    code: fc.constantFrom('male', 'female', 'weekly', 'never', 'warfarin', 'clozapine', 'low', 'high', 'x'),
    display: fc.string({ maxLength: 5 }),
  },
  { requiredKeys: [] }
);

/** Answer objects: every value type, well formed or not, plus empty and odd ones. */
export const answerValue: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({ valueBoolean: fc.boolean() }),
  fc.record({ valueInteger: fc.integer({ min: -5, max: 200 }) }),
  fc.record({ valueDecimal: fc.double({ noNaN: true, noDefaultInfinity: true, min: -500, max: 500 }) }),
  fc.record({ valueString: fc.string({ maxLength: 30 }) }),
  fc.record({ valueDate: fc.constantFrom('2020-01-01', '1800-05', '2020', '2020-13-40', 'yesterday') }),
  fc.record({ valueDateTime: fc.constantFrom('2020-01-01T10:00:00Z', '2020-01-01', '2020-01-01T10:00') }),
  fc.record({ valueTime: fc.constantFrom('10:00:00', '25:00:00', '10:00') }),
  fc.record({ valueUri: fc.constantFrom('http://x', '') }),
  fc.record({ valueCoding: coding }),
  fc.record({
    valueQuantity: fc.record(
      { value: fc.double({ noNaN: true }), unit: fc.constant('kg') },
      { requiredKeys: [] }
    ),
  }),
  fc.record({ valueReference: fc.record({ reference: fc.constant('Patient/1') }, { requiredKeys: [] }) }),
  fc.record({ valueAttachment: fc.record({ contentType: fc.constant('text/plain') }, { requiredKeys: [] }) }),
  fc.constant({}),
  fc.record({ valueBoolean: fc.jsonValue() }),
  fc.record({ valueSomething: fc.jsonValue() }),
  fc.record({ valueInteger: fc.integer(), valueString: fc.string() })
);

function itemArb(depth: number): fc.Arbitrary<QuestionnaireResponseItem> {
  const nested: fc.Arbitrary<QuestionnaireResponseItem[] | undefined> =
    depth <= 0
      ? fc.constant(undefined)
      : fc.option(fc.array(itemArb(depth - 1), { maxLength: 4 }), { nil: undefined });
  const answer = fc.oneof(
    { weight: 4, arbitrary: answerValue },
    {
      weight: 1,
      arbitrary: fc.record({ valueBoolean: fc.boolean(), item: nested }, { requiredKeys: ['valueBoolean'] }),
    }
  );
  return fc.record(
    {
      linkId: fc.constantFrom(...LINK_IDS),
      text: fc.constantFrom('About you', 'Age (years)', 'Something else'),
      answer: fc.array(answer, { maxLength: 3 }),
      item: nested,
    },
    { requiredKeys: ['linkId'] }
  ) as fc.Arbitrary<QuestionnaireResponseItem>;
}

/** A response whose items are shaped at random from the intake linkIds. */
const randomResponse: fc.Arbitrary<QuestionnaireResponse> = fc.record(
  {
    resourceType: fc.constant('QuestionnaireResponse' as const),
    id: fc.constantFrom('r1', ''),
    status: fc.constantFrom('completed', 'amended', 'in-progress' as const),
    questionnaire: fc.constantFrom(
      'http://example.org/fhir/Questionnaire/test-intake',
      'http://example.org/fhir/Questionnaire/test-intake|1.0.0',
      'http://example.org/fhir/Questionnaire/other'
    ),
    subject: fc.constant({ reference: 'Patient/p' }),
    item: fc.array(itemArb(3), { maxLength: 7 }),
  },
  { requiredKeys: ['resourceType', 'status'] }
) as fc.Arbitrary<QuestionnaireResponse>;

/** The valid response with answers replaced, items dropped or duplicated at random. */
const mutatedValid: fc.Arbitrary<QuestionnaireResponse> = fc
  .tuple(
    fc.array(
      fc.tuple(
        fc.nat(),
        fc.constantFrom('replace', 'drop', 'duplicate', 'clear'),
        fc.array(answerValue, { maxLength: 2 })
      ),
      {
        maxLength: 6,
      }
    )
  )
  .map(([edits]) => {
    const qr = validIntakeResponse();
    const all: { list: QuestionnaireResponseItem[]; index: number }[] = [];
    const walk = (list: QuestionnaireResponseItem[] | undefined): void => {
      (list ?? []).forEach((it, index) => {
        all.push({ list: list!, index });
        walk(it.item);
      });
    };
    walk(qr.item);
    for (const [n, kind, answers] of edits) {
      const target = all[n % all.length]!;
      const it = target.list[target.index];
      if (!it) {
        continue;
      }
      if (kind === 'replace') {
        it.answer = answers as QuestionnaireResponseItem['answer'];
      } else if (kind === 'clear') {
        delete it.answer;
      } else if (kind === 'drop') {
        target.list.splice(target.index, 1);
      } else {
        target.list.splice(target.index, 0, structuredClone(it));
      }
    }
    return qr;
  });

/** Items whose parts may be any JSON at all (lists that are not lists, linkIds that are numbers, ...). */
const chaosItem: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  item: fc.oneof(
    { depthSize: 'small' },
    fc.jsonValue(),
    fc.record(
      {
        linkId: fc.oneof(fc.constantFrom(...LINK_IDS), fc.jsonValue()),
        answer: fc.oneof(
          fc.jsonValue(),
          fc.array(
            fc.oneof(
              answerValue,
              fc.jsonValue(),
              fc.record({ item: fc.array(tie('item'), { maxLength: 3 }) })
            ),
            {
              maxLength: 3,
            }
          )
        ),
        item: fc.oneof(fc.jsonValue(), fc.array(tie('item'), { maxLength: 4 })),
      },
      { requiredKeys: [] }
    )
  ),
})).item;

/** A response with the right resourceType and anything JSON elsewhere. */
const chaosResponse = fc.record(
  {
    resourceType: fc.constant('QuestionnaireResponse'),
    id: fc.jsonValue(),
    status: fc.jsonValue(),
    questionnaire: fc.jsonValue(),
    subject: fc.jsonValue(),
    item: fc.oneof(fc.jsonValue(), fc.array(chaosItem, { maxLength: 6 })),
  },
  { requiredKeys: ['resourceType'] }
) as unknown as fc.Arbitrary<QuestionnaireResponse>;

/** Arbitrary responses for the intake form: mostly FHIR-shaped, some malformed JSON. */
export function arbitraryResponse(): fc.Arbitrary<QuestionnaireResponse> {
  return fc.oneof(
    { weight: 3, arbitrary: randomResponse },
    { weight: 3, arbitrary: mutatedValid },
    { weight: 1, arbitrary: chaosResponse }
  );
}
