import fc from 'fast-check';
import { parseSimplePath, setPathValues } from '../../../src/core/plan';
import { setPathValues as legacySetPathValues } from './legacy/element-path';

describe('parseSimplePath', () => {
  test('accepts dotted names with constant indexes', () => {
    expect(parseSimplePath('dosageInstruction[0].timing.repeat.frequency')).toEqual([
      { name: 'dosageInstruction', index: 0 },
      { name: 'timing' },
      { name: 'repeat' },
      { name: 'frequency' },
    ]);
  });

  test.each(['', 'a..b', 'a.where(x)', 'a[x]', '%resource.a', 'a[-1]', 'a.b[0]c'])(
    'rejects %p, which is not a simple path',
    (path) => {
      expect(parseSimplePath(path)).toBeUndefined();
    }
  );
});

describe('setPathValues', () => {
  test('creates the elements a single value needs', () => {
    const target: Record<string, unknown> = { resourceType: 'MedicationRequest' };
    expect(
      setPathValues(target, 'MedicationRequest', 'dispenseRequest.quantity.value', [30])
    ).toBeUndefined();
    expect(target).toEqual({
      resourceType: 'MedicationRequest',
      dispenseRequest: { quantity: { value: 30 } },
    });
  });

  test('spreads several values over the last unindexed repeating element', () => {
    const target: Record<string, unknown> = {};
    expect(
      setPathValues(target, 'ServiceRequest', 'reasonReference.reference', ['urn:uuid:a', 'urn:uuid:b'])
    ).toBeUndefined();
    expect(target).toEqual({ reasonReference: [{ reference: 'urn:uuid:a' }, { reference: 'urn:uuid:b' }] });
  });

  test('spreading replaces what the repeating element held before', () => {
    const target: Record<string, unknown> = { note: [{ text: 'old' }, { text: 'older' }] };
    expect(setPathValues(target, 'ServiceRequest', 'note.text', ['new'])).toBeUndefined();
    expect(target).toEqual({ note: [{ text: 'new' }] });
  });

  test('no value removes the spread element', () => {
    const target: Record<string, unknown> = { reasonReference: [{ reference: 'x' }] };
    expect(setPathValues(target, 'ServiceRequest', 'reasonReference.reference', [])).toBeUndefined();
    expect(target).toEqual({});
  });

  test('an index edits an existing element and keeps its other content', () => {
    const target: Record<string, unknown> = { dosageInstruction: [{ timing: { code: { text: 'BID' } } }] };
    expect(
      setPathValues(target, 'MedicationRequest', 'dosageInstruction[0].text', ['8 mg twice daily'])
    ).toBeUndefined();
    expect(target).toEqual({
      dosageInstruction: [{ timing: { code: { text: 'BID' } }, text: '8 mg twice daily' }],
    });
  });

  test('repeating elements before the spread point mean [0]', () => {
    const target: Record<string, unknown> = {};
    expect(
      setPathValues(target, 'MedicationRequest', 'dosageInstruction.doseAndRate.type.text', ['a', 'b'])
    ).toBeUndefined();
    expect(target).toEqual({
      dosageInstruction: [{ doseAndRate: [{ type: { text: 'a' } }, { type: { text: 'b' } }] }],
    });
  });

  test('an index equal to the length appends; a larger index is refused', () => {
    const target: Record<string, unknown> = { note: [{ text: 'a' }] };
    expect(setPathValues(target, 'ServiceRequest', 'note[1].text', ['b'])).toBeUndefined();
    expect(target).toEqual({ note: [{ text: 'a' }, { text: 'b' }] });
    expect(setPathValues(target, 'ServiceRequest', 'note[5].text', ['c'])).toMatch(/beyond the end/);
    expect(target).toEqual({ note: [{ text: 'a' }, { text: 'b' }] });
  });

  test('no value removes a fully indexed element without creating its parents', () => {
    const target: Record<string, unknown> = { note: [{ text: 'a' }, { text: 'b' }] };
    expect(setPathValues(target, 'ServiceRequest', 'note[0]', [])).toBeUndefined();
    expect(target).toEqual({ note: [{ text: 'b' }] });
    const empty: Record<string, unknown> = {};
    expect(setPathValues(empty, 'ServiceRequest', 'code.text', [])).toBeUndefined();
    expect(setPathValues(empty, 'ServiceRequest', 'note[3].text', [])).toBeUndefined();
    expect(setPathValues(empty, 'ServiceRequest', 'note[3]', [])).toBeUndefined();
    expect(empty).toEqual({});
  });

  test('several values for an element that holds one are refused and nothing is written', () => {
    const target: Record<string, unknown> = { code: { text: 'keep' } };
    expect(setPathValues(target, 'ServiceRequest', 'code.text', ['a', 'b'])).toMatch(/2 values/);
    expect(target).toEqual({ code: { text: 'keep' } });
  });

  test('an index above 0 on an element that does not repeat is refused', () => {
    expect(setPathValues({}, 'ServiceRequest', 'code[1].text', ['a'])).toMatch(/does not repeat/);
  });

  test('unknown elements are refused with the model path', () => {
    expect(setPathValues({}, 'ServiceRequest', 'reasonReferences.reference', ['a'])).toBe(
      'ServiceRequest has no element "reasonReferences"'
    );
    expect(setPathValues({}, 'CommunicationRequest', 'intent', ['option'])).toMatch(/no element "intent"/);
  });

  test('choice elements are written by their typed name only', () => {
    const target: Record<string, unknown> = {};
    expect(
      setPathValues(target, 'MedicationRequest', 'medicationCodeableConcept.text', ['ephedrine'])
    ).toBeUndefined();
    expect(target).toEqual({ medicationCodeableConcept: { text: 'ephedrine' } });
    expect(setPathValues(target, 'MedicationRequest', 'medication.text', ['x'])).toMatch(
      /no element "medication"/
    );
  });

  test('values of the wrong kind are refused', () => {
    expect(setPathValues({}, 'ServiceRequest', 'doNotPerform', ['yes'])).toMatch(/needs a boolean/);
    expect(setPathValues({}, 'MedicationRequest', 'dispenseRequest.numberOfRepeatsAllowed', ['2'])).toMatch(
      /needs a number/
    );
    expect(setPathValues({}, 'ServiceRequest', 'code', ['text'])).toMatch(/needs an object/);
    expect(setPathValues({}, 'ServiceRequest', 'code.text', [{ a: 1 }])).toMatch(/needs a string/);
  });

  test('object values are copied, not shared', () => {
    const source = { coding: [{ code: 'x' }] };
    const target: Record<string, unknown> = {};
    setPathValues(target, 'ServiceRequest', 'code', [source]);
    source.coding[0]!.code = 'changed';
    expect(target).toEqual({ code: { coding: [{ code: 'x' }] } });
  });

  test('works on backbone elements whose content is defined elsewhere', () => {
    const action: Record<string, unknown> = {};
    expect(setPathValues(action, 'RequestGroup.action', 'action[0].title', ['nested'])).toBeUndefined();
    expect(setPathValues(action, 'RequestGroup.action', 'description', ['text'])).toBeUndefined();
    expect(action).toEqual({ action: [{ title: 'nested' }], description: 'text' });
  });

  test('refuses to walk through a value that is not an element', () => {
    const target: Record<string, unknown> = { code: 'oops' };
    expect(setPathValues(target, 'ServiceRequest', 'code.text', ['a'])).toMatch(/not an element/);
  });
});

describe('setPathValues equals the uncached one (test/core/plan/legacy/element-path.ts)', () => {
  test('generated targets, paths and values, each written twice (the second from the read path)', () => {
    const segmentArb = fc
      .tuple(
        fc.constantFrom(
          'note',
          'text',
          'code',
          'coding',
          'reasonReference',
          'reference',
          'dosageInstruction',
          'timing',
          'repeat',
          'frequency',
          'status',
          'action',
          'title',
          'doNotPerform',
          'no',
          '1x'
        ),
        fc.option(fc.constantFrom(0, 1, 3), { nil: undefined })
      )
      .map(([name, index]) => (index === undefined ? name : `${name}[${index}]`));
    const pathArb = fc.oneof(
      fc.array(segmentArb, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('.')),
      fc.constantFrom('', ' ', 'note..text', 'note[x]')
    );
    const valueArb = fc.array(
      fc.oneof(
        fc.string({ maxLength: 3 }),
        fc.integer(),
        fc.boolean(),
        fc.constant({ text: 'a' }),
        fc.constant([1])
      ),
      { maxLength: 3 }
    );
    const targetArb = fc.constantFrom(
      () => ({}),
      () => ({ note: [{ text: 'a' }], code: { text: 'c' } }),
      () => ({ note: 'not an array', code: [] }),
      () => ({ action: [{ title: 't' }] })
    );
    fc.assert(
      fc.property(
        fc.constantFrom('ServiceRequest', 'MedicationRequest', 'CommunicationRequest', 'RequestGroup.action'),
        pathArb,
        valueArb,
        targetArb,
        (base, path, values, make) => {
          for (let i = 0; i < 2; i++) {
            const now = make() as Record<string, unknown>;
            const before = make() as Record<string, unknown>;
            expect(setPathValues(now, base, path, values)).toBe(
              legacySetPathValues(before, base, path, values)
            );
            expect(JSON.stringify(now)).toBe(JSON.stringify(before));
          }
        }
      ),
      { numRuns: 100 }
    );
  });
});
