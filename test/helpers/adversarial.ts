import type { CodeSystem, Parameters, QuestionnaireResponse } from '@medplum/fhirtypes';
import { example } from './bad-input';

/**
 * A shipped example response carrying as many `contained` Observations as fit in about `bytes` of JSON
 * (each checked by the contained-resource invariants: the costly path of issue 14).
 * @param bytes - Approximate size of the serialised response.
 */
export function responseWithContained(bytes: number): QuestionnaireResponse {
  const response = example('re-example-turp-tamsulosin');
  const base = JSON.stringify(response).length;
  const one = (i: number): object => ({
    resourceType: 'Observation',
    id: `c${i}`,
    status: 'final',
    code: { text: `contained ${i}` },
    valueString: 'padding padding padding',
  });
  const each = JSON.stringify(one(0)).length + 1;
  const count = Math.max(1, Math.floor((bytes - base) / each));
  return { ...response, contained: Array.from({ length: count }, (_, i) => one(i)) } as QuestionnaireResponse;
}

/**
 * `CodeSystem/$validate-code` input with an inline CodeSystem of about `bytes` of JSON.
 * @param bytes - Approximate size of the serialised Parameters.
 */
export function inlineCodeSystemParameters(bytes: number): Parameters {
  const concept = (i: number): { code: string; display: string } => {
    const n = String(i).padStart(7, '0');
    return { code: `c${n}`, display: `Concept ${n}` };
  };
  const each = JSON.stringify(concept(0)).length + 1;
  const count = Math.max(1, Math.floor((bytes - 300) / each));
  const codeSystem: CodeSystem = {
    resourceType: 'CodeSystem',
    url: 'http://example.org/fhir/CodeSystem/adversarial',
    status: 'active',
    content: 'complete',
    concept: Array.from({ length: count }, (_, i) => concept(i)),
  };
  return {
    resourceType: 'Parameters',
    parameter: [
      { name: 'codeSystem', resource: codeSystem },
      { name: 'code', valueCode: concept(count - 1).code },
    ],
  };
}
