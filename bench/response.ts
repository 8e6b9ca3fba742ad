/**
 * Benchmark of the response machinery on a generated form shaped like the RE evaluation:
 * 40 items (20 answered questions in 4 groups, a 20-item hidden calculated group), 15 variables.
 * Run: npx tsx bench/response.ts
 */
import type { Extension, Questionnaire, QuestionnaireItem, QuestionnaireResponse } from '@medplum/fhirtypes';
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

function measure(label: string, fn: () => unknown, seconds = 1): number {
  for (let i = 0; i < 50; i++) {
    fn();
  }
  let runs = 0;
  const start = process.hrtime.bigint();
  const stop = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < stop) {
    for (let i = 0; i < 10; i++) {
      fn();
    }
    runs += 10;
    now = process.hrtime.bigint();
  }
  const micros = Number(now - start) / runs / 1000;
  console.log(
    `${label.padEnd(48)} ${micros.toFixed(0).padStart(6)} µs/QR  ${(1e6 / micros).toFixed(0).padStart(6)} QR/s`
  );
  return micros;
}

if (require.main === module) {
  const { questionnaire, response } = benchForm();
  const done = calculateResponse(response, questionnaire);
  console.log(`passes for a fresh response: ${done.passes}; issues: ${done.issues.length}`);
  const median = (label: string, fn: () => unknown): void => {
    const runs = [0, 1, 2, 3, 4].map(() => measure(label, fn, 0.6)).sort((a, b) => a - b);
    console.log(`${'  median'.padEnd(48)} ${runs[2]!.toFixed(0).padStart(6)} µs/QR`);
  };
  median('calculate (fresh QR, features absent)', () => calculateResponse(response, questionnaire));
  median('calculate (already complete QR)', () => calculateResponse(done.response, questionnaire));
  median('validate (completed passed in)', () =>
    validateResponse(response, questionnaire, { completed: done.response })
  );
}
