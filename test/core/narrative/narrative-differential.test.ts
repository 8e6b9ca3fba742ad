import type { Resource } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { escapeXhtml, withNarrative } from '../../../src/core/narrative/narrative';
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
});
