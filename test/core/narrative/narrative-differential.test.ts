import type { Resource } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { escapeXhtml, narrate, withNarrative } from '../../../src/core/narrative/narrative';
import {
  escapeXhtml as oracleEscape,
  withNarrative as oracleNarrative,
} from '../operations/oracle/narrative';

/**
 * The narratives against the frozen oracle (the row arrays, filter and join they replaced): the same
 * resource, text for text, over generated resources of every type that gets one, with markup, empty
 * strings and absent elements everywhere.
 */

const RUNS = Number(process.env.PROPERTY_RUNS ?? 300);

const text = fc.oneof(
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom('', ' ', '<b>&"\'</b>', 'a & b', '&amp;', '≥ 5 mL', "O'Brien <x@y>")
);
const coding = fc.record({ system: text, code: text, display: text }, { requiredKeys: [] });
const concept = fc.record({ text, coding: fc.array(coding, { maxLength: 3 }) }, { requiredKeys: [] });
const reference = fc.record({ reference: text, display: text }, { requiredKeys: [] });

const condition = fc.record(
  {
    resourceType: fc.constant('Condition'),
    code: concept,
    verificationStatus: concept,
    clinicalStatus: concept,
    onsetDateTime: text,
    recordedDate: text,
    evidence: fc.array(fc.record({ code: fc.array(concept, { maxLength: 2 }) }, { requiredKeys: [] }), {
      maxLength: 3,
    }),
  },
  { requiredKeys: ['resourceType'] }
);

const observation = fc.record(
  {
    resourceType: fc.constant('Observation'),
    code: concept,
    valueQuantity: fc.record(
      { value: fc.oneof(fc.integer(), fc.double({ noNaN: true })), unit: text, code: text },
      { requiredKeys: [] }
    ),
    valueBoolean: fc.boolean(),
    valueInteger: fc.integer(),
    valueCodeableConcept: concept,
    interpretation: fc.array(concept, { maxLength: 3 }),
    referenceRange: fc.array(
      fc.record(
        { text, low: fc.record({ value: fc.integer(), unit: text }, { requiredKeys: [] }) },
        { requiredKeys: [] }
      ),
      { maxLength: 2 }
    ),
    status: text,
    effectiveDateTime: text,
  },
  { requiredKeys: ['resourceType'] }
);

const provenance = fc.record(
  {
    resourceType: fc.constant('Provenance'),
    activity: concept,
    recorded: text,
    entity: fc.array(fc.record({ what: reference }, { requiredKeys: [] }), { maxLength: 2 }),
    agent: fc.array(fc.record({ type: concept, who: reference }, { requiredKeys: [] }), { maxLength: 3 }),
    target: fc.array(reference, { maxLength: 4 }),
  },
  { requiredKeys: ['resourceType', 'target'] }
);

const request = fc.record(
  {
    resourceType: fc.constantFrom('ServiceRequest', 'MedicationRequest', 'CommunicationRequest', 'Task'),
    code: concept,
    medicationCodeableConcept: concept,
    category: fc.array(concept, { maxLength: 2 }),
    status: text,
    intent: text,
    description: text,
    payload: fc.array(fc.record({ contentString: text }, { requiredKeys: [] }), { maxLength: 3 }),
    dosageInstruction: fc.array(fc.record({ text }, { requiredKeys: [] }), { maxLength: 3 }),
    patientInstruction: text,
  },
  { requiredKeys: ['resourceType'] }
);

const other = fc.record({ resourceType: fc.constantFrom('Patient', 'CarePlan', 'Goal'), id: text });

describe('narratives equal their frozen oracle', () => {
  test('escapeXhtml on any text', () => {
    fc.assert(
      fc.property(text, (value) => {
        expect(escapeXhtml(value)).toBe(oracleEscape(value));
      }),
      { numRuns: RUNS }
    );
  });

  test('withNarrative on generated resources of every type', () => {
    fc.assert(
      fc.property(fc.oneof(condition, observation, provenance, request, other), (generated) => {
        const resource = generated as unknown as Resource;
        const expected = oracleNarrative(structuredClone(resource));
        const actual = withNarrative(resource);
        expect(JSON.stringify(actual)).toBe(JSON.stringify(expected));
        expect(actual === resource).toBe(!('text' in expected));
      }),
      { numRuns: RUNS }
    );
  });

  // Some resources already have a `text` (first, in the middle or last): it keeps its place.
  const anyResource = fc
    .tuple(
      fc.oneof(condition, observation, provenance, request, other),
      fc.constantFrom('none', 'first', 'last', 'middle')
    )
    .map(([generated, where]) => {
      const r = generated as Record<string, unknown>;
      const old = { status: 'empty', div: '<div xmlns="http://www.w3.org/1999/xhtml">old</div>' };
      if (where === 'none') {
        return r;
      }
      const entries = Object.entries(r);
      const at = where === 'first' ? 0 : where === 'last' ? entries.length : entries.length >> 1;
      entries.splice(at, 0, ['text', old]);
      return Object.fromEntries(entries);
    });

  test('narrate sets the text withNarrative gives, in place, at the same key position', () => {
    fc.assert(
      fc.property(anyResource, (generated) => {
        const resource = generated as unknown as Resource;
        const expected = oracleNarrative(structuredClone(resource));
        const actual = narrate(resource);
        expect(actual).toBe(resource);
        expect(JSON.stringify(actual)).toBe(JSON.stringify(expected));
      }),
      { numRuns: RUNS }
    );
  });

  // Values that are not FHIR (numbers, empty arrays, null, an object where an array belongs) reach
  // the narratives only from a caller's templates; they must fare as they did: the same text, or a
  // TypeError where the oracle's array methods threw one.
  const odd = fc.oneof(
    fc.constant(null),
    fc.constant([]),
    fc.constant(['']),
    fc.integer(),
    fc.constant(0),
    fc.boolean(),
    text,
    fc.record({ text }, { requiredKeys: [] })
  );
  const loose = fc.oneof(
    fc.record(
      {
        resourceType: fc.constant('Condition'),
        code: fc.oneof(concept, odd),
        evidence: fc.oneof(
          odd,
          fc.array(fc.record({ code: fc.oneof(odd, fc.array(fc.oneof(concept, odd))) }, { requiredKeys: [] }))
        ),
      },
      { requiredKeys: ['resourceType'] }
    ),
    fc.record(
      {
        resourceType: fc.constant('Observation'),
        interpretation: fc.oneof(odd, fc.array(fc.oneof(concept, odd))),
        valueInteger: odd,
      },
      { requiredKeys: ['resourceType'] }
    ),
    fc.record(
      {
        resourceType: fc.constant('Provenance'),
        entity: fc.oneof(odd, fc.array(fc.oneof(fc.record({ what: fc.oneof(reference, odd) }), odd))),
        agent: fc.oneof(
          odd,
          fc.array(fc.record({ type: fc.oneof(concept, odd), who: fc.oneof(reference, odd) }))
        ),
        target: fc.array(reference, { maxLength: 2 }),
      },
      { requiredKeys: ['resourceType', 'target'] }
    ),
    fc.record(
      {
        resourceType: fc.constantFrom('ServiceRequest', 'Task'),
        status: odd,
        intent: odd,
        payload: fc.oneof(odd, fc.array(fc.record({ contentString: odd }, { requiredKeys: [] }))),
        dosageInstruction: fc.oneof(odd, fc.array(fc.record({ text: odd }, { requiredKeys: [] }))),
      },
      { requiredKeys: ['resourceType'] }
    )
  );
  const outcome = (run: () => Resource): string => {
    try {
      return JSON.stringify(run());
    } catch (err) {
      return err instanceof TypeError ? 'TypeError' : `other error: ${String(err)}`;
    }
  };

  test('withNarrative and narrate on values that are not FHIR: as the oracle', () => {
    fc.assert(
      fc.property(loose, (generated) => {
        const resource = generated as unknown as Resource;
        const expected = outcome(() => oracleNarrative(structuredClone(resource)));
        expect(outcome(() => withNarrative(structuredClone(resource)))).toBe(expected);
        expect(outcome(() => narrate(structuredClone(resource)))).toBe(expected);
      }),
      { numRuns: RUNS }
    );
  });
});
