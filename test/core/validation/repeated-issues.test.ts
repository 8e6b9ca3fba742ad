import fc from 'fast-check';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { issueKey, notRepeated } from '../../../src/core/validation/repeated-issues';

// The profile pass drops the issues the base pass already reported, by key. `notRepeated` compares
// a few issues field by field before building keys: it must keep exactly what the key filter keeps.
const byKeys = (
  found: OperationOutcomeIssue[],
  earlier: OperationOutcomeIssue[]
): OperationOutcomeIssue[] => {
  const seen = new Set(earlier.map(issueKey));
  return found.filter((i) => !seen.has(issueKey(i)));
};

// Few distinct parts, separators among them, so that equal fields, equal keys from other fields
// (`a\u0000b` split differently, `x,y` as one expression or two) and missing parts all come up.
const part = fc.constantFrom('', 'a', 'b', ',', 'a,b', '\u0000', 'a\u0000error', 'x\u0000y');
const issue: fc.Arbitrary<OperationOutcomeIssue> = fc.record(
  {
    severity: fc.constantFrom('error', 'warning', 'information') as fc.Arbitrary<
      OperationOutcomeIssue['severity']
    >,
    code: fc.constantFrom('structure', 'invariant', 'a\u0000b') as fc.Arbitrary<
      OperationOutcomeIssue['code']
    >,
    details: fc.option(fc.record({ text: fc.option(part, { nil: undefined }) }, { requiredKeys: [] }), {
      nil: undefined,
    }),
    expression: fc.option(fc.array(part, { maxLength: 3 }), { nil: undefined }),
  },
  { requiredKeys: ['severity', 'code'] }
);

describe('notRepeated', () => {
  test('keeps exactly the issues whose key no earlier issue has, in order (few and many issues)', () => {
    fc.assert(
      fc.property(
        fc.array(issue, { maxLength: 12 }),
        fc.array(issue, { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (found, earlier, copies) => {
          // Repeats as the profile pass makes them: copies of earlier issues among the found ones.
          const withRepeats = [...found];
          for (const at of copies) {
            if (earlier.length > 0) {
              withRepeats.splice(
                at % (withRepeats.length + 1),
                0,
                structuredClone(earlier[at % earlier.length]!)
              );
            }
          }
          expect(notRepeated(withRepeats, earlier)).toEqual(byKeys(withRepeats, earlier));
        }
      ),
      { numRuns: 2000 }
    );
  });

  test('issues that differ but join to one key are still dropped', () => {
    const earlier: OperationOutcomeIssue = {
      severity: 'error',
      code: 'structure',
      details: { text: 'a\u0000b' },
    };
    const found = {
      severity: 'error',
      code: 'structure\u0000a',
      details: { text: 'b' },
    } as unknown as OperationOutcomeIssue;
    expect(issueKey(found)).toBe(issueKey(earlier));
    expect(notRepeated([found], [earlier])).toEqual([]);
    expect(
      notRepeated([{ ...earlier, expression: ['x,y'] }], [{ ...earlier, expression: ['x', 'y'] }])
    ).toEqual([]);
  });
});
