import { issue, outcome, printable } from '../../src/core/outcomes';
import { testEngine } from '../helpers/engine';

describe('outcome', () => {
  const validator = testEngine().validator;

  it('escapes the control characters R4 strings forbid, so that an outcome quoting input stays valid', () => {
    const quoted = 'not \u0000\u001f\u000b';
    const result = outcome([
      { ...issue('error', 'structure', quoted, `Resource.${quoted}`), diagnostics: quoted },
    ]);
    expect(result.issue).toEqual([
      {
        severity: 'error',
        code: 'structure',
        details: { text: 'not \\u0000\\u001f\\u000b' },
        diagnostics: 'not \\u0000\\u001f\\u000b',
        expression: ['Resource.not \\u0000\\u001f\\u000b'],
      },
    ]);
    expect(validator.validate(result).issues.filter((i) => i.severity === 'error')).toEqual([]);
  });

  it('keeps tab, CR, LF and every other character as they are', () => {
    const kept = 'a\tb\r\nc \u007f é 🙂 \ud800';
    expect(printable(kept)).toBe(kept);
    const original = issue('warning', 'invalid', kept);
    expect(outcome([original]).issue[0]).toBe(original);
  });

  it('says All OK for no issues', () => {
    expect(outcome([])).toEqual({
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'information', code: 'informational', details: { text: 'All OK' } }],
    });
  });
});
