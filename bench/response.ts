/**
 * Benchmark of the response machinery on a generated form shaped like the RE evaluation:
 * 40 items (20 answered questions in 4 groups, a 20-item hidden calculated group), 15 variables.
 * Run: npm run bench:response (numbers are medians of five runs; the machine's noise applies).
 */
import type { Extension, Questionnaire, QuestionnaireItem, QuestionnaireResponse } from '@medplum/fhirtypes';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluateFhirPath } from '../src/core/fhirpath/fhirpath';
import { calculateResponse } from '../src/core/response/calculate';
import { validateResponse } from '../src/core/response/validate-response';

const SDC = 'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-';
const variable = (name: string, expression: string): Extension => ({
  url: 'http://hl7.org/fhir/StructureDefinition/variable',
  valueExpression: { name, language: 'text/fhirpath', expression },
});
const calc = (expression: string): Extension => ({
  url: `${SDC}calculatedExpression`,
  valueExpression: { language: 'text/fhirpath', expression },
});

/** Builds the benchmark Questionnaire and a matching response. */
export function benchForm(): { questionnaire: Questionnaire; response: QuestionnaireResponse } {
  const groups: QuestionnaireItem[] = [];
  const answers: QuestionnaireResponse['item'] = [];
  for (let g = 0; g < 4; g++) {
    const items: QuestionnaireItem[] = [];
    const rItems: NonNullable<QuestionnaireResponse['item']> = [];
    for (let i = 0; i < 5; i++) {
      const n = g * 5 + i;
      const type = n % 2 === 0 ? 'boolean' : 'integer';
      items.push({ linkId: `q${n}`, text: `Question ${n}`, type, required: n % 4 === 0 });
      rItems.push({
        linkId: `q${n}`,
        answer: [type === 'boolean' ? { valueBoolean: n % 3 === 0 } : { valueInteger: n }],
      });
    }
    groups.push({ linkId: `g${g}`, text: `Group ${g}`, type: 'group', item: items });
    answers.push({ linkId: `g${g}`, item: rItems });
  }
  const extension: Extension[] = [];
  for (let v = 0; v < 10; v++) {
    extension.push(variable(`v${v}`, `%resource.repeat(item).where(linkId='q${v * 2}').answer.value`));
  }
  for (let v = 10; v < 15; v++) {
    extension.push(variable(`v${v}`, `${v}`));
  }
  const features: QuestionnaireItem[] = [];
  for (let f = 0; f < 20; f++) {
    const dependsOnFeature =
      f >= 15 ? ` and %resource.repeat(item).where(linkId='f${f - 15}').answer.value = true` : '';
    features.push({
      linkId: `f${f}`,
      text: `Feature ${f}`,
      type: 'boolean',
      readOnly: true,
      extension: [calc(`(%v${f % 10} = true or %v${10 + (f % 5)} > ${f})${dependsOnFeature}`)],
    });
  }
  groups.push({ linkId: 'features', text: 'Features', type: 'group', item: features });
  return {
    questionnaire: {
      resourceType: 'Questionnaire',
      url: 'http://example.org/fhir/Questionnaire/bench',
      status: 'active',
      extension,
      item: groups,
    },
    response: {
      resourceType: 'QuestionnaireResponse',
      id: 'bench',
      status: 'completed',
      questionnaire: 'http://example.org/fhir/Questionnaire/bench',
      subject: { reference: 'Patient/p' },
      item: answers,
    },
  };
}

/**
 * Baseline: one pass done the straightforward way, every variable and calculated expression
 * evaluated as written by fhirpath.js on the whole response (no look-up index, no reuse).
 */
function naivePass(questionnaire: Questionnaire, response: QuestionnaireResponse): void {
  const env: Record<string, unknown> = { resource: response, questionnaire };
  for (const ext of questionnaire.extension ?? []) {
    const e = ext.valueExpression!;
    env[e.name!] = evaluateFhirPath(e.expression!, response, env);
  }
  const walk = (items: QuestionnaireItem[] | undefined): void => {
    for (const item of items ?? []) {
      for (const ext of item.extension ?? []) {
        if (ext.url.endsWith('calculatedExpression')) {
          evaluateFhirPath(ext.valueExpression!.expression!, response, env);
        }
      }
      walk(item.item);
    }
  };
  walk(questionnaire.item);
}

/** Median of five ~0.5 s runs, in microseconds per call. */
function measure(fn: () => unknown): number {
  for (let i = 0; i < 50; i++) {
    fn();
  }
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    let calls = 0;
    const start = process.hrtime.bigint();
    const stop = start + 500_000_000n;
    let now = start;
    while (now < stop) {
      for (let i = 0; i < 10; i++) {
        fn();
      }
      calls += 10;
      now = process.hrtime.bigint();
    }
    runs.push(Number(now - start) / calls / 1000);
  }
  return runs.sort((a, b) => a - b)[2]!;
}

if (require.main === module) {
  const { questionnaire, response } = benchForm();
  const done = calculateResponse(response, questionnaire);
  const intake = JSON.parse(
    readFileSync(join(__dirname, '../test/fixtures/questionnaires/Questionnaire-test-intake.json'), 'utf8')
  ) as Questionnaire;
  const intakeResponse: QuestionnaireResponse = {
    resourceType: 'QuestionnaireResponse',
    id: 'i',
    status: 'completed',
    questionnaire: intake.url,
    subject: { reference: 'Patient/p' },
    item: [
      { linkId: 'demographics', item: [{ linkId: 'age', answer: [{ valueInteger: 40 }] }] },
      {
        linkId: 'body',
        item: [
          { linkId: 'weight', answer: [{ valueDecimal: 110 }] },
          { linkId: 'height', answer: [{ valueDecimal: 1.8 }] },
        ],
      },
      {
        linkId: 'habits',
        item: [
          { linkId: 'smoker', answer: [{ valueBoolean: true }] },
          { linkId: 'cigarettes-per-day', answer: [{ valueInteger: 5 }] },
        ],
      },
    ],
  };
  console.log(`generated form: ${done.passes} passes for a fresh response, ${done.issues.length} issues`);
  const baseline = measure(() => naivePass(questionnaire, response));
  const rows: [string, number][] = [
    ['baseline: one naive pass (fhirpath.js, as written)', baseline],
    [
      'calculate, fresh response (calculated items absent)',
      measure(() => calculateResponse(response, questionnaire)),
    ],
    [
      'calculate, already calculated response',
      measure(() => calculateResponse(done.response, questionnaire)),
    ],
    [
      'validate, calculated response passed in',
      measure(() => validateResponse(response, questionnaire, { completed: done.response })),
    ],
    ['validate, calculating internally', measure(() => validateResponse(response, questionnaire))],
    [
      'intake fixture: calculate (4-step dependency chain)',
      measure(() => calculateResponse(intakeResponse, intake)),
    ],
    ['intake fixture: validate', measure(() => validateResponse(intakeResponse, intake))],
  ];
  console.log(
    `${'operation'.padEnd(54)} ${'µs/QR'.padStart(7)} ${'QR/s'.padStart(7)} ${'× baseline'.padStart(11)}`
  );
  for (const [label, micros] of rows) {
    console.log(
      `${label.padEnd(54)} ${micros.toFixed(0).padStart(7)} ${(1e6 / micros).toFixed(0).padStart(7)} ${(micros / baseline).toFixed(2).padStart(11)}`
    );
  }
}
