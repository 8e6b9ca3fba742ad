import fc from 'fast-check';
import { validateCodeParameters } from '../../../src/core/terminology/parameters';
import { Terminology } from '../../../src/core/terminology/terminology';
import { COLOURS, colours, fixtureResources, SHAPES, SNOMED, SNOMED_EDITION, vs } from './fixtures';

const terminology = new Terminology(fixtureResources);

describe('ValueSet $validate-code', () => {
  test('accepts a member code and returns its display', () => {
    expect(terminology.validateCode(vs('warm'), { system: COLOURS, code: 'red' })).toEqual({
      ok: true,
      issues: [],
      value: { result: true, display: 'Red', issues: [] },
    });
  });

  test('keeps the result true for a wrong display, with a warning that names the correct display', () => {
    const result = terminology.validateCode(vs('snomed'), {
      coding: { system: SNOMED, version: SNOMED_EDITION, code: '60389000', display: 'Paraplegic' },
    });
    const text = `Wrong display 'Paraplegic' for ${SNOMED}#60389000: the correct display is 'Paraplegia'`;
    expect(result).toEqual({
      ok: true,
      issues: [],
      value: {
        result: true,
        message: text,
        display: 'Paraplegia',
        issues: [{ severity: 'warning', code: 'invalid', details: { text }, expression: ['Coding.display'] }],
      },
    });
  });

  test('accepts the code system display, a designation, or the value set display', () => {
    for (const display of ['Red', 'Rouge']) {
      const result = terminology.validateCode(vs('warm'), { system: COLOURS, code: 'red', display });
      expect(result.ok && result.value.issues).toEqual([]);
    }
    // The value set shows green as 'Leaf green'; the code system's 'Green' stays the display returned.
    const green = terminology.validateCode(vs('warm'), {
      system: COLOURS,
      code: 'green',
      display: 'Leaf green',
    });
    expect(green.ok && green.value).toEqual({ result: true, display: 'Green', issues: [] });
  });

  test('rejects a code outside the value set, and an unknown code of a local code system as unknown', () => {
    const outside = terminology.validateCode(vs('warm'), { system: COLOURS, code: 'blue' });
    expect(outside.ok && outside.value).toEqual({
      result: false,
      message: `The code 'blue' from system '${COLOURS}' is not in value set '${vs('warm')}|1'`,
      issues: [
        {
          severity: 'error',
          code: 'code-invalid',
          details: { text: `The code 'blue' from system '${COLOURS}' is not in value set '${vs('warm')}|1'` },
          expression: ['Coding.code'],
        },
      ],
    });
    const unknown = terminology.validateCode(vs('warm'), { system: COLOURS, code: 'purple' });
    expect(unknown.ok && unknown.value.message).toBe(`Unknown code 'purple' in code system '${COLOURS}'`);
    const otherSystem = terminology.validateCode(vs('warm'), { system: 'http://unknown', code: 'red' });
    expect(otherSystem.ok && otherSystem.value.result).toBe(false);
  });

  test('rejects a coding without a system, and a coding of another version', () => {
    const noSystem = terminology.validateCode(vs('warm'), { coding: { code: 'red' } });
    expect(noSystem.ok && noSystem.value).toMatchObject({
      result: false,
      issues: [{ severity: 'error', code: 'invalid', expression: ['Coding.system'] }],
    });
    const otherVersion = terminology.validateCode(vs('snomed'), {
      system: SNOMED,
      version: 'http://snomed.info/sct/900000000000207008/version/20190731',
      code: '24700007',
    });
    expect(otherVersion.ok && otherVersion.value).toMatchObject({
      result: false,
      issues: [{ code: 'code-invalid', expression: ['Coding.version'] }],
    });
  });

  test('rejects an abstract code unless the caller allows abstract codes, and warns about inactive ones', () => {
    const abstract = terminology.validateCode(vs('all-colours'), { system: COLOURS, code: 'any-colour' });
    expect(abstract.ok && abstract.value.result).toBe(false);
    const allowed = terminology.validateCode(vs('all-colours'), {
      system: COLOURS,
      code: 'any-colour',
      abstract: true,
    });
    expect(allowed.ok && allowed.value.result).toBe(true);
    const inactive = terminology.validateCode(vs('all-colours'), { system: COLOURS, code: 'old-grey' });
    expect(inactive.ok && inactive.value).toMatchObject({
      result: true,
      message: "The code 'old-grey' is inactive",
      issues: [{ severity: 'warning', code: 'business-rule' }],
    });
  });

  test('accepts a CodeableConcept when any coding is a member, keeping the others as information', () => {
    const result = terminology.validateCode(vs('warm'), {
      codeableConcept: {
        coding: [
          { system: SNOMED, code: '1' },
          { system: COLOURS, code: 'green', display: 'Green' },
        ],
      },
    });
    expect(result.ok && result.value).toEqual({
      result: true,
      display: 'Green',
      issues: [
        {
          severity: 'information',
          code: 'code-invalid',
          details: { text: `The code '1' from system '${SNOMED}' is not in value set '${vs('warm')}|1'` },
          expression: ['CodeableConcept.coding[0].code'],
        },
      ],
    });
  });

  test('rejects a CodeableConcept with no member coding, or with no coding at all', () => {
    const none = terminology.validateCode(vs('warm'), {
      codeableConcept: {
        coding: [
          { system: COLOURS, code: 'blue' },
          { system: COLOURS, code: 'nope' },
        ],
      },
    });
    expect(none.ok && none.value.result).toBe(false);
    expect(none.ok && none.value.issues.map((i) => i.expression)).toEqual([
      ['CodeableConcept.coding[0].code'],
      ['CodeableConcept.coding[1].code'],
    ]);
    const empty = terminology.validateCode(vs('warm'), { codeableConcept: { text: 'red' } });
    expect(empty.ok && empty.value.message).toBe('The CodeableConcept has no coding to validate');
  });

  test('fails for an unknown or unexpandable ValueSet instead of answering false', () => {
    expect(terminology.validateCode(vs('nowhere'), { system: COLOURS, code: 'red' })).toMatchObject({
      ok: false,
      kind: 'not-found',
    });
    expect(terminology.validateCode(vs('whole-snomed'), { system: SNOMED, code: '1' })).toMatchObject({
      ok: false,
      kind: 'conformance',
      issues: [{ code: 'not-supported' }],
    });
  });

  test('fails for input that is not exactly one of code, coding and codeableConcept', () => {
    const inputs = [
      {},
      { code: 'red', coding: { system: COLOURS, code: 'red' } },
      { coding: { system: COLOURS, code: 'red' }, codeableConcept: {} },
      { coding: { system: COLOURS, code: 'red' }, display: 'Red' },
    ];
    for (const input of inputs) {
      expect(terminology.validateCode(vs('warm'), input)).toMatchObject({
        ok: false,
        kind: 'structural',
        issues: [{ severity: 'error', code: 'invalid' }],
      });
    }
  });

  test('warns exactly when an arbitrary display is neither the display nor a designation', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.constantFrom('Red', 'Rouge', 'red', ' Red')), (display) => {
        const result = terminology.validateCode(vs('all-colours'), { system: COLOURS, code: 'red', display });
        expect(result.ok && result.value.result).toBe(true);
        expect(result.ok && result.value.display).toBe('Red');
        const warned = result.ok && result.value.issues.some((i) => i.severity === 'warning');
        expect(warned).toBe(display !== 'Red' && display !== 'Rouge');
      })
    );
  });
});

describe('CodeSystem $validate-code', () => {
  test('accepts a defined code by system URI or by resource', () => {
    for (const codeSystem of [COLOURS, `${COLOURS}|1.0.0`, colours]) {
      const result = terminology.validateCodeInCodeSystem(codeSystem, { code: 'light-blue' });
      expect(result.ok && result.value).toEqual({ result: true, display: 'Light blue', issues: [] });
    }
  });

  test('answers false with a message for an unknown code system, version or code', () => {
    expect(terminology.validateCodeInCodeSystem('http://unknown', { code: 'x' })).toEqual({
      ok: true,
      issues: [],
      value: {
        result: false,
        message: "Unknown code system 'http://unknown'",
        issues: [
          {
            severity: 'error',
            code: 'not-found',
            details: { text: "Unknown code system 'http://unknown'" },
            expression: ['Coding.system'],
          },
        ],
      },
    });
    const version = terminology.validateCodeInCodeSystem(colours, {
      coding: { system: COLOURS, version: '0.9', code: 'red' },
    });
    expect(version.ok && version.value.message).toBe(
      `Version '0.9' of code system '${COLOURS}' is not known (known: 1.0.0)`
    );
    const code = terminology.validateCodeInCodeSystem(COLOURS, { code: 'purple' });
    expect(code.ok && code.value.message).toBe(`Unknown code 'purple' in code system '${COLOURS}'`);
  });

  test('rejects a coding of another system', () => {
    const result = terminology.validateCodeInCodeSystem(COLOURS, { coding: { system: SHAPES, code: 'red' } });
    expect(result.ok && result.value).toMatchObject({
      result: false,
      issues: [{ expression: ['Coding.system'] }],
    });
  });

  test('matches a case-insensitive code system in any case, noting the defined form', () => {
    const result = terminology.validateCodeInCodeSystem(SHAPES, { code: 'square', display: 'Quadrat' });
    expect(result.ok && result.value).toMatchObject({
      result: true,
      display: 'Square',
      issues: [
        {
          severity: 'information',
          details: {
            text: "The code 'square' matches 'Square' only because the code system is case-insensitive",
          },
        },
      ],
    });
    expect(result.ok && result.value.message).toBeUndefined();
  });

  test('reports a wrong display as a warning', () => {
    const result = terminology.validateCodeInCodeSystem(COLOURS, { code: 'red', display: 'Crimson' });
    expect(result.ok && result.value).toMatchObject({
      result: true,
      display: 'Red',
      message: `Wrong display 'Crimson' for ${COLOURS}#red: the correct display is 'Red'`,
    });
  });
});

describe('validateCodeParameters', () => {
  test('builds the R4 output parameters', () => {
    expect(validateCodeParameters({ result: true, message: 'm', display: 'd', issues: [] })).toEqual({
      resourceType: 'Parameters',
      parameter: [
        { name: 'result', valueBoolean: true },
        { name: 'message', valueString: 'm' },
        { name: 'display', valueString: 'd' },
      ],
    });
    expect(validateCodeParameters({ result: false, issues: [] })).toEqual({
      resourceType: 'Parameters',
      parameter: [{ name: 'result', valueBoolean: false }],
    });
  });
});
