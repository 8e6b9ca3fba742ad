import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';
import type { LookupResult } from './lookup';
import type { TranslateResult } from './translate';
import type { ValidateCodeResult } from './validate-code';

/**
 * The R4 `$validate-code` output: `result`, and `message` and `display` when present.
 * See: https://hl7.org/fhir/R4/valueset-operation-validate-code.html
 * @param result - a validation result
 */
export function validateCodeParameters(result: ValidateCodeResult): Parameters {
  const parameter: ParametersParameter[] = [{ name: 'result', valueBoolean: result.result }];
  if (result.message !== undefined) {
    parameter.push({ name: 'message', valueString: result.message });
  }
  if (result.display !== undefined) {
    parameter.push({ name: 'display', valueString: result.display });
  }
  return { resourceType: 'Parameters', parameter };
}

/**
 * The R4 `$lookup` output: `name`, `version`, `display`, one `designation` per designation, and one
 * `property` per property. R4 has no named output for the definition, so it is returned as the
 * standard `definition` property.
 * See: https://hl7.org/fhir/R4/codesystem-operation-lookup.html
 * @param result - a lookup result
 */
export function lookupParameters(result: LookupResult): Parameters {
  const parameter: ParametersParameter[] = [{ name: 'name', valueString: result.name }];
  if (result.version !== undefined) {
    parameter.push({ name: 'version', valueString: result.version });
  }
  parameter.push({ name: 'display', valueString: result.display });
  for (const d of result.designation) {
    const part: ParametersParameter[] = [];
    if (d.language !== undefined) {
      part.push({ name: 'language', valueCode: d.language });
    }
    if (d.use !== undefined) {
      part.push({ name: 'use', valueCoding: d.use });
    }
    part.push({ name: 'value', valueString: d.value });
    parameter.push({ name: 'designation', part });
  }
  if (result.definition !== undefined) {
    parameter.push({
      name: 'property',
      part: [
        { name: 'code', valueCode: 'definition' },
        { name: 'value', valueString: result.definition },
      ],
    });
  }
  for (const p of result.property) {
    parameter.push({
      name: 'property',
      part: [
        { name: 'code', valueCode: p.code },
        { name: 'value', ...p.value },
      ],
    });
  }
  return { resourceType: 'Parameters', parameter };
}

/**
 * The R4 `$translate` output: `result`, `message`, and one `match` (equivalence, concept, source)
 * per candidate.
 * See: https://hl7.org/fhir/R4/conceptmap-operation-translate.html
 * @param result - a translation result
 */
export function translateParameters(result: TranslateResult): Parameters {
  const parameter: ParametersParameter[] = [{ name: 'result', valueBoolean: result.result }];
  if (result.message !== undefined) {
    parameter.push({ name: 'message', valueString: result.message });
  }
  for (const m of result.matches) {
    const part: ParametersParameter[] = [{ name: 'equivalence', valueCode: m.equivalence }];
    if (m.concept !== undefined) {
      part.push({ name: 'concept', valueCoding: m.concept });
    }
    part.push({ name: 'source', valueUri: m.source });
    parameter.push({ name: 'match', part });
  }
  return { resourceType: 'Parameters', parameter };
}
