import { getAllDataTypes } from '@medplum/core';
import type { Condition, OperationOutcomeIssue, StructureDefinition } from '@medplum/fhirtypes';
import { PROFILES_KEPT } from '../../../src/core/validation/medplum';
import { createValidator } from '../../../src/core/validation/validator';
import { deriveProfile, r4Definitions } from '../../helpers/validation';

// Profiles given as objects are cached by content, not by `url|version` (which the caller chooses):
// two profiles with one canonical and other content are validated each by its own content, a
// changed object by its new content, and the caches stay bounded however many profiles arrive.

const condition: Condition = {
  resourceType: 'Condition',
  code: { text: 'x' },
  subject: { reference: 'Patient/p1' },
};

/** Same url and version; one requires a note (a Medplum cardinality), the other a stage (an invariant). */
function profiles(): { needsNote: StructureDefinition; needsStage: StructureDefinition } {
  return {
    needsNote: deriveProfile('Condition', 're-test-given', { 'Condition.note': { min: 1 } }),
    needsStage: deriveProfile('Condition', 're-test-given', {
      'Condition.subject': {
        constraint: [
          { key: 're-given-1', severity: 'error', human: 'A stage', expression: '%resource.stage.exists()' },
        ],
      },
    }),
  };
}

function errors(issues: OperationOutcomeIssue[]): string[] {
  return issues
    .filter((i) => i.severity === 'error')
    .map((i) => `${i.details?.text ?? i.code} @ ${(i.expression ?? []).join(',')}`);
}

describe('profiles given as objects', () => {
  const validator = createValidator({ definitions: r4Definitions() });
  const validate = (profile: StructureDefinition): string[] =>
    errors(validator.validate(condition, { profile }).issues);

  test('two profiles with one canonical and other content: each by its own content, in either order', () => {
    const { needsNote, needsStage } = profiles();
    const noteOnly = validate(needsNote);
    const stageOnly = validate(needsStage);
    expect(noteOnly).toEqual(['Missing required property @ Condition.note']);
    expect(stageOnly).toEqual(['Constraint re-given-1 not met: A stage @ Condition.subject']);
    // Again, as fresh copies and in the other order.
    const fresh = profiles();
    expect(validate(fresh.needsStage)).toEqual(stageOnly);
    expect(validate(fresh.needsNote)).toEqual(noteOnly);
    // Through begin(), too.
    const run = validator.begin(condition);
    expect(errors(run.withProfile(needsStage).issues)).toEqual(stageOnly);
    expect(errors(run.withProfile(needsNote).issues)).toEqual(noteOnly);
  });

  test("a profile object the caller changes is validated by its new content, the old content's answer kept", () => {
    const { needsNote } = profiles();
    expect(validate(needsNote)).toEqual(['Missing required property @ Condition.note']);
    const note = needsNote.snapshot!.element.find((e) => e.path === 'Condition.note')!;
    note.min = 0;
    expect(validate(needsNote)).toEqual([]);
    note.min = 1;
    expect(validate(needsNote)).toEqual(['Missing required property @ Condition.note']);
  });

  test("the same content given as a new object each time registers one schema in Medplum's type map", () => {
    validate(profiles().needsNote);
    const before = Object.keys(getAllDataTypes()).length;
    for (let i = 0; i < 20; i++) {
      expect(validate(profiles().needsNote)).toEqual(['Missing required property @ Condition.note']);
    }
    expect(Object.keys(getAllDataTypes()).length).toBe(before);
  });

  test("Medplum's type map stays bounded however many distinct profiles are given", () => {
    const before = Object.keys(getAllDataTypes()).length;
    const count = PROFILES_KEPT * 3;
    for (let i = 0; i < count; i++) {
      const distinct = deriveProfile('Condition', `re-test-many-${i}`, { 'Condition.note': { min: 1 } });
      expect(validate(distinct)).toEqual(['Missing required property @ Condition.note']);
    }
    const grown = Object.keys(getAllDataTypes()).length - before;
    expect(grown).toBeGreaterThan(0);
    expect(grown).toBeLessThanOrEqual(PROFILES_KEPT);
    // What was forgotten is registered again when needed, with the same answer.
    const first = deriveProfile('Condition', 're-test-many-0', { 'Condition.note': { min: 1 } });
    expect(validate(first)).toEqual(['Missing required property @ Condition.note']);
  });
});
