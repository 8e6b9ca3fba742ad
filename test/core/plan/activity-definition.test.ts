import type { ActivityDefinition } from '@medplum/fhirtypes';
import { applyActivityDefinition } from '../../../src/core/plan';
import { ReFhirError } from '../../../src/core/outcomes';
import { depsOver, fhirpath, NOW } from './support';

const base = { status: 'active', version: '1' } as const;

const serviceAd: ActivityDefinition = {
  resourceType: 'ActivityDefinition',
  ...base,
  url: 'http://example.org/ActivityDefinition/lab',
  kind: 'ServiceRequest',
  profile: 'http://example.org/StructureDefinition/sr',
  code: { coding: [{ system: 'http://loinc.org', code: '2986-8' }], text: 'Testosterone' },
  priority: 'routine',
  doNotPerform: false,
  timingTiming: { repeat: { count: 1 } },
  bodySite: [{ text: 'arm' }],
  quantity: { value: 1 },
  participant: [{ type: 'practitioner', role: { text: 'phlebotomist' } }],
  location: { reference: 'Location/lab' },
  description: 'Draw blood in the morning.',
};

const params = { subject: 'Patient/p1', encounter: 'Encounter/e1', practitioner: 'Practitioner/d1' };

describe('applyActivityDefinition', () => {
  test('creates a ServiceRequest carrying everything the definition maps to', () => {
    const { resource, issues } = applyActivityDefinition(serviceAd, params, depsOver([]));
    expect(issues).toEqual([]);
    expect(resource).toEqual({
      resourceType: 'ServiceRequest',
      meta: { profile: ['http://example.org/StructureDefinition/sr'] },
      status: 'draft',
      priority: 'routine',
      intent: 'proposal',
      instantiatesCanonical: ['http://example.org/ActivityDefinition/lab|1'],
      doNotPerform: false,
      code: { coding: [{ system: 'http://loinc.org', code: '2986-8' }], text: 'Testosterone' },
      quantityQuantity: { value: 1 },
      subject: { reference: 'Patient/p1' },
      encounter: { reference: 'Encounter/e1' },
      occurrenceTiming: { repeat: { count: 1 } },
      authoredOn: NOW,
      requester: { reference: 'Practitioner/d1' },
      performerType: { text: 'phlebotomist' },
      locationReference: [{ reference: 'Location/lab' }],
      bodySite: [{ text: 'arm' }],
      note: [{ text: 'Draw blood in the morning.' }],
    });
  });

  test('creates a MedicationRequest from product[x] and dosage, with the definition intent', () => {
    const ad: ActivityDefinition = {
      resourceType: 'ActivityDefinition',
      ...base,
      url: 'http://example.org/ActivityDefinition/med',
      kind: 'MedicationRequest',
      intent: 'plan',
      doNotPerform: true,
      productCodeableConcept: { coding: [{ system: 'http://www.whocc.no/atc', code: 'C01CA17' }] },
      dosage: [{ text: '5 mg three times daily' }],
      quantity: { value: 90 },
    };
    const { resource } = applyActivityDefinition(ad, { subject: 'Patient/p1' }, depsOver([]));
    expect(resource).toEqual({
      resourceType: 'MedicationRequest',
      status: 'draft',
      intent: 'plan',
      instantiatesCanonical: ['http://example.org/ActivityDefinition/med|1'],
      doNotPerform: true,
      medicationCodeableConcept: { coding: [{ system: 'http://www.whocc.no/atc', code: 'C01CA17' }] },
      subject: { reference: 'Patient/p1' },
      authoredOn: NOW,
      dosageInstruction: [{ text: '5 mg three times daily' }],
      dispenseRequest: { quantity: { value: 90 } },
    });
  });

  test('creates a CommunicationRequest without intent, code as category and description as payload', () => {
    const ad: ActivityDefinition = {
      resourceType: 'ActivityDefinition',
      ...base,
      url: 'http://example.org/ActivityDefinition/talk',
      kind: 'CommunicationRequest',
      code: { text: 'reassure' },
      description: 'It is harmless.',
      timingDateTime: '2027-01-01',
    };
    const { resource } = applyActivityDefinition(ad, { subject: 'Patient/p1' }, depsOver([]));
    expect(resource).toEqual({
      resourceType: 'CommunicationRequest',
      status: 'draft',
      category: [{ text: 'reassure' }],
      subject: { reference: 'Patient/p1' },
      payload: [{ contentString: 'It is harmless.' }],
      occurrenceDateTime: '2027-01-01',
      authoredOn: NOW,
    });
    expect(resource).not.toHaveProperty('intent');
  });

  test('creates a Task for the subject (Task.for), with a single instantiatesCanonical', () => {
    const ad: ActivityDefinition = {
      resourceType: 'ActivityDefinition',
      ...base,
      url: 'http://example.org/ActivityDefinition/review',
      kind: 'Task',
      code: { text: 'Review medication' },
      description: 'Check every drug.',
      doNotPerform: false,
      participant: [{ type: 'practitioner', role: { text: 'pharmacist' } }],
    };
    const { resource, issues } = applyActivityDefinition(ad, { subject: 'Patient/p1' }, depsOver([]));
    expect(resource).toEqual({
      resourceType: 'Task',
      status: 'draft',
      instantiatesCanonical: 'http://example.org/ActivityDefinition/review|1',
      intent: 'proposal',
      code: { text: 'Review medication' },
      description: 'Check every drug.',
      for: { reference: 'Patient/p1' },
      authoredOn: NOW,
      performerType: [{ text: 'pharmacist' }],
    });
    expect(resource).not.toHaveProperty('subject');
    expect(issues.map((i) => i.details?.text)).toEqual([
      'ActivityDefinition http://example.org/ActivityDefinition/review|1: Task has no doNotPerform in R4; it was not copied',
    ]);
  });

  test('evaluates dynamic values in order against the request, with the definition variables', () => {
    const ad: ActivityDefinition = {
      resourceType: 'ActivityDefinition',
      ...base,
      url: 'http://example.org/ActivityDefinition/dv',
      kind: 'ServiceRequest',
      extension: [
        {
          url: 'http://hl7.org/fhir/StructureDefinition/variable',
          valueExpression: { name: 'who', language: 'text/fhirpath', expression: "'for ' + %subject" },
        },
      ],
      dynamicValue: [
        { path: 'code.text', expression: fhirpath('%who') },
        {
          path: 'note.text',
          expression: fhirpath("%resource.code.text + ' via ' + %activityDefinition.name"),
        },
        {
          path: 'reasonReference.reference',
          expression: fhirpath("%data.entry.where(resource.resourceType = 'Condition').fullUrl"),
        },
      ],
      name: 'Dv',
    };
    const data = {
      resourceType: 'Bundle' as const,
      type: 'collection' as const,
      entry: [
        {
          fullUrl: 'urn:uuid:c1',
          resource: { resourceType: 'Condition' as const, subject: { reference: 'Patient/p1' } },
        },
        {
          fullUrl: 'urn:uuid:c2',
          resource: { resourceType: 'Condition' as const, subject: { reference: 'Patient/p1' } },
        },
      ],
    };
    const { resource, issues } = applyActivityDefinition(ad, { subject: 'Patient/p1', data }, depsOver([]));
    expect(issues).toEqual([]);
    expect(resource).toMatchObject({
      code: { text: 'for Patient/p1' },
      note: [{ text: 'for Patient/p1 via Dv' }],
      reasonReference: [{ reference: 'urn:uuid:c1' }, { reference: 'urn:uuid:c2' }],
    });
  });

  test('reports a failing dynamic value and keeps the rest of the request', () => {
    const ad: ActivityDefinition = {
      resourceType: 'ActivityDefinition',
      ...base,
      url: 'http://example.org/ActivityDefinition/bad',
      kind: 'ServiceRequest',
      dynamicValue: [
        { path: 'code.text', expression: fhirpath('(((') },
        { path: 'nothing.here', expression: fhirpath("'x'") },
        { path: 'priority', expression: fhirpath("'urgent'") },
      ],
    };
    const { resource, issues } = applyActivityDefinition(ad, { subject: 'Patient/p1' }, depsOver([]));
    expect(resource).toMatchObject({ resourceType: 'ServiceRequest', priority: 'urgent' });
    expect(issues.map((i) => [i.severity, i.expression])).toEqual([
      ['error', ['ActivityDefinition.dynamicValue[0].expression']],
      ['error', ['ActivityDefinition.dynamicValue[1].path']],
    ]);
  });

  test('reports an unsupported kind and creates nothing', () => {
    const ad: ActivityDefinition = {
      resourceType: 'ActivityDefinition',
      ...base,
      url: 'http://x/a',
      kind: 'Appointment',
    };
    const result = applyActivityDefinition(ad, { subject: 'Patient/p1' }, depsOver([]));
    expect(result.resource).toBeUndefined();
    expect(result.issues.map((i) => i.code)).toEqual(['not-supported']);
  });

  test('warns about timing the request kind cannot hold', () => {
    const ad: ActivityDefinition = { ...serviceAd, timingTiming: undefined, timingAge: { value: 50 } };
    const { issues } = applyActivityDefinition(ad, { subject: 'Patient/p1' }, depsOver([]));
    expect(issues.map((i) => i.details?.text)).toEqual([
      'ActivityDefinition http://example.org/ActivityDefinition/lab|1: timingAge has no counterpart on ServiceRequest; it was not copied',
    ]);
  });

  test('resolves the definition by canonical and refuses an unknown one', () => {
    const deps = depsOver([serviceAd]);
    expect(
      applyActivityDefinition('http://example.org/ActivityDefinition/lab|1', params, deps).resource
        ?.resourceType
    ).toBe('ServiceRequest');
    expect(() => applyActivityDefinition('http://example.org/ActivityDefinition/none', params, deps)).toThrow(
      ReFhirError
    );
    try {
      applyActivityDefinition('http://example.org/ActivityDefinition/none', params, deps);
    } catch (err) {
      expect((err as ReFhirError).kind).toBe('not-found');
    }
  });

  test('refuses to run without a subject', () => {
    expect.assertions(2);
    try {
      applyActivityDefinition(serviceAd, { subject: '' }, depsOver([]));
    } catch (err) {
      expect(err).toBeInstanceOf(ReFhirError);
      expect((err as ReFhirError).kind).toBe('structural');
    }
  });
});
