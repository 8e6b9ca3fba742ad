import type { QuestionnaireResponse } from '@medplum/fhirtypes';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluateResponse } from '../../../src/core/operations/evaluate';
import type { FailureKind } from '../../../src/core/outcomes';
import { ReFhirError } from '../../../src/core/outcomes';
import { testEngine } from '../../helpers/engine';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const example = JSON.parse(
  readFileSync(
    join(__dirname, '../../../profiles/examples/QuestionnaireResponse-re-example-diabetic-confirmed.json'),
    'utf8'
  )
) as QuestionnaireResponse;

/** The item with this linkId, wherever it is nested. */
function item(qr: Json, linkId: string): Json {
  const found: Json[] = [];
  const walk = (items: Json[] | undefined): void => {
    for (const i of items ?? []) {
      if (i.linkId === linkId) {
        found.push(i);
      }
      walk(i.item);
    }
  };
  walk(qr.item);
  return found[0]!;
}

function remove(qr: Json, linkId: string): void {
  const walk = (items: Json[] | undefined): void => {
    const i = (items ?? []).findIndex((x) => x.linkId === linkId);
    if (i >= 0) {
      items!.splice(i, 1);
    }
    for (const x of items ?? []) {
      walk(x.item);
    }
  };
  walk(qr.item);
}

interface Defect {
  readonly name: string;
  readonly mutate: (qr: Json) => unknown;
  readonly kind: FailureKind;
  readonly code: string;
  readonly expression?: string;
}

const atc = (code: string): Json => ({ system: 'http://www.whocc.no/atc', code });

/** One defect per row: what is wrong, the failure kind (HTTP class), and the first error's code and location. */
const DEFECTS: Defect[] = [
  // Not FHIR R4 at all: structural (400).
  {
    name: 'an array instead of a resource',
    mutate: () => [],
    kind: 'structural',
    code: 'structure',
    expression: 'QuestionnaireResponse',
  },
  {
    name: 'another resource type',
    mutate: (qr) => ({ ...qr, resourceType: 'Patient' }),
    kind: 'structural',
    code: 'structure',
    expression: 'QuestionnaireResponse',
  },
  {
    name: 'a status outside the R4 codes',
    mutate: (qr) => ({ ...qr, status: 'banana' }),
    kind: 'structural',
    code: 'structure',
    expression: 'QuestionnaireResponse.status',
  },
  {
    name: 'an unknown element',
    mutate: (qr) => ({ ...qr, foo: 1 }),
    kind: 'structural',
    code: 'structure',
    expression: 'QuestionnaireResponse.foo',
  },
  {
    name: 'a number where a dateTime belongs',
    mutate: (qr) => ({ ...qr, authored: 20261121 }),
    kind: 'structural',
    code: 'structure',
    expression: 'QuestionnaireResponse.authored',
  },
  {
    name: 'an impossible dateTime',
    mutate: (qr) => ({ ...qr, authored: '2026-13-01' }),
    kind: 'structural',
    code: 'structure',
    expression: 'QuestionnaireResponse.authored',
  },
  {
    name: 'an id with a space',
    mutate: (qr) => ({ ...qr, id: 'bad id' }),
    kind: 'structural',
    code: 'structure',
    expression: 'QuestionnaireResponse.id',
  },
  {
    name: 'an empty item array',
    mutate: (qr) => ({ ...qr, item: [] }),
    kind: 'structural',
    code: 'structure',
    expression: 'QuestionnaireResponse.item',
  },
  {
    name: 'an item without linkId',
    mutate: (qr) => {
      delete item(qr, 'dry-orgasm').linkId;
    },
    kind: 'structural',
    code: 'structure',
    expression: 'QuestionnaireResponse.item[0].item[0].linkId',
  },
  {
    name: 'a boolean answer given as a string',
    mutate: (qr) => {
      item(qr, 'dry-orgasm').answer = [{ valueBoolean: 'yes' }];
    },
    kind: 'structural',
    code: 'structure',
    expression: 'QuestionnaireResponse.item[0].item[0].answer[0].valueBoolean',
  },
  {
    name: 'an empty answer object',
    mutate: (qr) => {
      item(qr, 'dry-orgasm').answer = [{}];
    },
    kind: 'structural',
    code: 'structure',
    expression: 'QuestionnaireResponse.item[0].item[0].answer[0]',
  },
  // Its Questionnaire cannot be found: not-found (404).
  {
    name: 'an unknown Questionnaire',
    mutate: (qr) => ({ ...qr, questionnaire: 'http://example.org/Questionnaire/other' }),
    kind: 'not-found',
    code: 'not-found',
    expression: 'QuestionnaireResponse.questionnaire',
  },
  {
    name: 'another version of the Questionnaire',
    mutate: (qr) => ({ ...qr, questionnaire: 'http://re-fhir.org/fhir/Questionnaire/re-evaluation|9.9.9' }),
    kind: 'not-found',
    code: 'not-found',
    expression: 'QuestionnaireResponse.questionnaire',
  },
  // Valid FHIR that breaks the Questionnaire or the profile: conformance (422).
  {
    // Optional in R4, required by our profile: 422, not the 404 of an unknown canonical.
    name: 'no Questionnaire named',
    mutate: (qr) => {
      delete qr.questionnaire;
    },
    kind: 'conformance',
    code: 'required',
    expression: 'QuestionnaireResponse.questionnaire',
  },
  {
    name: 'a response still in progress',
    mutate: (qr) => ({ ...qr, status: 'in-progress' }),
    kind: 'conformance',
    code: 'business-rule',
    expression: 'QuestionnaireResponse.status',
  },
  {
    name: 'no subject',
    mutate: (qr) => {
      delete qr.subject;
    },
    kind: 'conformance',
    code: 'structure',
    expression: 'QuestionnaireResponse.subject',
  },
  {
    name: 'no authored time',
    mutate: (qr) => {
      delete qr.authored;
    },
    kind: 'conformance',
    code: 'structure',
    expression: 'QuestionnaireResponse.authored',
  },
  {
    name: 'no logical id',
    mutate: (qr) => {
      delete qr.id;
    },
    kind: 'conformance',
    code: 'required',
    expression: 'QuestionnaireResponse.id',
  },
  {
    name: 'an unknown linkId',
    mutate: (qr) => {
      item(qr, 'symptoms').item.push({ linkId: 'unknown-item', answer: [{ valueBoolean: true }] });
    },
    kind: 'conformance',
    code: 'not-found',
    expression: 'QuestionnaireResponse.item[0].item[6].linkId',
  },
  {
    name: 'a string answer to a boolean item',
    mutate: (qr) => {
      item(qr, 'dry-orgasm').answer = [{ valueString: 'yes' }];
    },
    kind: 'conformance',
    code: 'value',
    expression: 'QuestionnaireResponse.item[0].item[0].answer[0].value',
  },
  {
    name: 'a missing required answer',
    mutate: (qr) => remove(qr, 'bother'),
    kind: 'conformance',
    code: 'required',
    expression: 'QuestionnaireResponse.item[4]',
  },
  {
    name: 'an answer to a disabled item',
    mutate: (qr) => {
      item(qr, 'fertility-wish').answer = [{ valueBoolean: false }];
    },
    kind: 'conformance',
    code: 'business-rule',
    expression: 'QuestionnaireResponse.item[1].item[1]',
  },
  {
    name: 'a coding outside the answer value set',
    mutate: (qr) => {
      item(qr, 'partner-status').answer = [
        { valueCoding: { system: 'http://re-fhir.org/fhir/CodeSystem/re-answer', code: 'acquired' } },
      ];
    },
    kind: 'conformance',
    code: 'code-invalid',
    expression: 'QuestionnaireResponse.item[1].item[2].answer[0].value',
  },
  {
    name: 'a drug outside the risk-medication value set',
    mutate: (qr) => {
      item(qr, 'risk-factors').item.push({
        linkId: 'medications',
        item: [
          { linkId: 'medication', answer: [{ valueCoding: atc('N02BE01') }] },
          { linkId: 'medication-stoppable', answer: [{ valueBoolean: true }] },
        ],
      });
    },
    kind: 'conformance',
    code: 'code-invalid',
    expression: 'QuestionnaireResponse.item[3].item[2].item[0].answer[0].value',
  },
  {
    name: 'two answers to a non-repeating item',
    mutate: (qr) => {
      item(qr, 'dry-orgasm').answer = [{ valueBoolean: true }, { valueBoolean: false }];
    },
    kind: 'conformance',
    code: 'structure',
    expression: 'QuestionnaireResponse.item[0].item[0].answer[1]',
  },
  {
    name: 'two instances of a non-repeating group',
    mutate: (qr) => {
      qr.item.push(structuredClone(item(qr, 'fertility')));
    },
    kind: 'conformance',
    code: 'duplicate',
    expression: 'QuestionnaireResponse.item[6]',
  },
  {
    name: 'a score above its maximum',
    mutate: (qr) => {
      item(qr, 'shim-total').answer = [{ valueInteger: 30 }];
    },
    kind: 'conformance',
    code: 'value',
    expression: 'QuestionnaireResponse.item[4].item[0].answer[0].value',
  },
  {
    name: 'a score below its minimum',
    mutate: (qr) => {
      item(qr, 'pedt-total').answer = [{ valueInteger: -1 }];
    },
    kind: 'conformance',
    code: 'value',
    expression: 'QuestionnaireResponse.item[4].item[1].answer[0].value',
  },
  {
    name: 'a semen volume above its maximum',
    mutate: (qr) => {
      item(qr, 'semen-volume').answer = [{ valueDecimal: 25 }];
    },
    kind: 'conformance',
    code: 'value',
    expression: 'QuestionnaireResponse.item[5].item[0].item[1].answer[0].value',
  },
  {
    name: 'an item at the wrong nesting level',
    mutate: (qr) => {
      qr.item.push({ linkId: 'stress', answer: [{ valueBoolean: true }] });
    },
    kind: 'conformance',
    code: 'structure',
    expression: 'QuestionnaireResponse.item[6]',
  },
  {
    // Answers beside nested items break R4 qrs-1: not valid FHIR, whatever the Questionnaire says.
    name: 'an answer on a group',
    mutate: (qr) => {
      item(qr, 'symptoms').answer = [{ valueBoolean: true }];
    },
    kind: 'structural',
    code: 'invariant',
    expression: 'QuestionnaireResponse.item[0]',
  },
  {
    name: 'a semen volume without the WHO edition its limits need',
    mutate: (qr) => remove(qr, 'who-edition'),
    kind: 'conformance',
    code: 'required',
    expression: 'QuestionnaireResponse.item[5].item[0]',
  },
  {
    name: 'a diabetes answer without its type',
    mutate: (qr) => remove(qr, 'diabetes-type'),
    kind: 'conformance',
    code: 'required',
    expression: 'QuestionnaireResponse.item[3].item[1]',
  },
];

describe('invalid input to the evaluation: a catalogue of defects', () => {
  test('covers at least 25 distinct defects in every failure class', () => {
    expect(DEFECTS.length).toBeGreaterThanOrEqual(25);
    expect(new Set(DEFECTS.map((d) => d.name)).size).toBe(DEFECTS.length);
    expect(new Set(DEFECTS.map((d) => d.kind))).toEqual(new Set(['structural', 'not-found', 'conformance']));
  });

  test('the unmodified example is accepted', () => {
    expect(() => evaluateResponse(structuredClone(example), testEngine())).not.toThrow();
  });

  test.each(DEFECTS.map((d) => [d.name, d]))('%s', (_name, defect) => {
    const input = structuredClone(example) as Json;
    const mutated = defect.mutate(input) ?? input;
    let error: unknown;
    try {
      evaluateResponse(mutated, testEngine());
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ReFhirError);
    const failure = error as ReFhirError;
    const first = failure.outcome.issue.find((i) => i.severity === 'error');
    expect({ kind: failure.kind, code: first?.code, expression: first?.expression?.[0] }).toEqual({
      kind: defect.kind,
      code: defect.code,
      expression: defect.expression,
    });
  });
});
