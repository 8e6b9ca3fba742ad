import type { Questionnaire } from '@medplum/fhirtypes';
import { evaluateResponse } from '../../../src/core/operations/evaluate';
import type { EngineDeps } from '../../../src/core/operations/engine';
import { extractOperation } from '../../../src/core/operations/extract';
import { internGiven } from '../../../src/core/operations/given-content';
import { contentFingerprint } from '../../../src/core/operations/json-content';
import { compileQuestionnaire } from '../../../src/core/response/questionnaire-model';
import { testEngine } from '../../helpers/engine';
import { scenarios } from '../../helpers/scenarios';

/** An engine whose validator is a new object: interning is per validator, so nothing is remembered yet. */
function freshEngine(): EngineDeps {
  const deps = testEngine();
  return { ...deps, validator: { ...deps.validator } };
}

describe('definitions given with a request, interned by content', () => {
  const deps = testEngine();
  const shipped = deps.registry.resolve<Questionnaire>(
    'http://re-fhir.org/fhir/Questionnaire/re-evaluation',
    'Questionnaire'
  )!;

  test('each golden scenario with a fresh copy of the Questionnaire per request gives the Bundle of the shipped one', () => {
    for (const scenario of scenarios()) {
      for (let i = 0; i < 2; i++) {
        // The same validator (so the interned content is shared), ids counted afresh.
        const run = { ...deps, newId: testEngine().newId };
        const bundle = evaluateResponse(scenario.response, run, {
          questionnaire: structuredClone(shipped),
        }).bundle;
        expect(bundle).toEqual(evaluateResponse(scenario.response, testEngine()).bundle);
      }
    }
  });

  test('equal content is validated and compiled once; other content is not confused with it', () => {
    const deps = freshEngine();
    const validate = jest.spyOn(deps.validator, 'validate');
    try {
      const first = internGiven(structuredClone(shipped), deps);
      const before = validate.mock.calls.length;
      const second = internGiven(structuredClone(shipped), deps);
      expect(validate.mock.calls.length).toBe(before);
      expect(second.value).toBe(first.value);
      expect(compileQuestionnaire(second.value)).toBe(compileQuestionnaire(first.value));

      const changed = structuredClone(shipped);
      changed.title = `${changed.title ?? ''} (changed)`;
      const third = internGiven(changed, deps);
      expect(validate.mock.calls.length).toBe(before + 1);
      expect(third.value).toEqual(changed);
      expect(third.value).not.toBe(first.value);
    } finally {
      validate.mockRestore();
    }
  });

  test('memory stays bounded: only the last few contents are kept', () => {
    const seen: Questionnaire[] = [];
    for (let i = 0; i < 20; i++) {
      const q = structuredClone(shipped);
      q.title = `variant ${i}`;
      seen.push(internGiven(q, deps).value);
    }
    // The first variant was forgotten: sent again, it is a new entry, not the first object.
    const again = structuredClone(shipped);
    again.title = 'variant 0';
    expect(internGiven(again, deps).value).not.toBe(seen[0]);
    // The last one is still known.
    const last = structuredClone(shipped);
    last.title = 'variant 19';
    expect(internGiven(last, deps).value).toBe(seen[19]);
  });
  /** A copy of the shipped Questionnaire whose R1 key expression ends in `suffix` (same length as '-re'). */
  function withR1Key(suffix: string): Questionnaire {
    const q = structuredClone(shipped);
    const template = q.contained!.find((c) => c.id === 'tpl-condition-re') as unknown as {
      identifier: { _value: { extension: { valueString: string }[] } }[];
    };
    const ext = template.identifier[0]!._value.extension[0]!;
    expect(ext.valueString.endsWith("'-R1-re'")).toBe(true);
    ext.valueString = ext.valueString.replace(/'-R1-re'$/, `'-R1-${suffix}'`);
    return q;
  }

  test('contents whose fingerprints collide are still told apart, down to their compiled templates', () => {
    const deps = freshEngine();
    const original = withR1Key('re');
    const changed = withR1Key('rf');
    // The two differ in one character the fingerprint does not sample: only the comparison tells them apart.
    expect(contentFingerprint(changed)).toBe(contentFingerprint(original));
    expect(JSON.stringify(changed)).not.toBe(JSON.stringify(original));

    const scenario = scenarios().find((s) => s.name === 'example-diabetic-confirmed')!;
    const keyOf = (q: Questionnaire): string[] =>
      (extractOperation(scenario.response, deps, { questionnaire: q }).bundle.entry ?? [])
        .flatMap((e) => (e.resource as { identifier?: { value?: string }[] }).identifier ?? [])
        .map((i) => i.value ?? '')
        .filter((v) => v.includes('-R1-'));
    const before = keyOf(structuredClone(original));
    expect(before.length).toBeGreaterThan(0);
    expect(before.every((v) => v.endsWith('-R1-re'))).toBe(true);
    // Sent after the original (whose templates are compiled and cached by object), the change shows.
    const after = keyOf(structuredClone(changed));
    expect(after).toEqual(before.map((v) => v.replace(/-R1-re$/, '-R1-rf')));
    // And the original, sent again, is the original.
    expect(keyOf(structuredClone(original))).toEqual(before);
    expect(internGiven(structuredClone(original), deps).value).not.toBe(
      internGiven(structuredClone(changed), deps).value
    );
  });

  test("the interned definition is a private copy: changing the caller's object later changes nothing", () => {
    const deps = freshEngine();
    const mine = structuredClone(shipped);
    mine.title = 'private copy';
    const first = internGiven(mine, deps);
    expect(first.value).not.toBe(mine);
    expect(first.value).toEqual(mine);
    mine.title = 'changed afterwards';
    expect(first.value.title).toBe('private copy');
    const again = structuredClone(shipped);
    again.title = 'private copy';
    expect(internGiven(again, deps).value).toBe(first.value);
    // The changed object is other content.
    expect(internGiven(mine, deps).value).not.toBe(first.value);
  });

  test('the registry object itself is kept as it is (it stays shipped content)', () => {
    const deps = freshEngine();
    expect(internGiven(shipped, deps).value).toBe(shipped);
    expect(internGiven(structuredClone(shipped), deps).value).toBe(shipped);
  });

  test('a definition that is not plain JSON is validated as given, every time, and never interned', () => {
    const deps = freshEngine();
    const validate = jest.spyOn(deps.validator, 'validate');
    try {
      const odd = { ...structuredClone(shipped), date: new Date(0) } as unknown as Questionnaire;
      const first = internGiven(odd, deps);
      const second = internGiven(odd, deps);
      expect(first.value).toBe(odd);
      expect(second.value).toBe(odd);
      expect(validate.mock.calls.map((c) => c[0])).toEqual([odd, odd]);
      // Its JSON twin is other content to the interning (it is plain): validated on its own.
      const twin = JSON.parse(JSON.stringify(odd)) as Questionnaire;
      expect(internGiven(twin, deps).value).not.toBe(odd);
      expect(validate).toHaveBeenCalledTimes(3);
    } finally {
      validate.mockRestore();
    }
  });
});
