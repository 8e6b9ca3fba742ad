import type {
  CodeableConcept,
  Coding,
  Condition,
  Narrative,
  Observation,
  Provenance,
  Reference,
  Resource,
} from '@medplum/fhirtypes';

/**
 * Generated narratives (`text.status = generated`) for the resources the engine creates, so that a
 * system without our profiles can still show them (R4 dom-6). Only coded and structured data is
 * rendered; every string is escaped.
 * See: https://hl7.org/fhir/R4/narrative.html
 */
export function withNarrative<T extends Resource>(resource: T): T {
  const rows = narrativeRows(resource);
  if (!rows) {
    return resource;
  }
  const body = rows
    .filter(([, value]) => value !== undefined && value !== '')
    .map(([label, value]) => `<tr><th>${escapeXhtml(label)}</th><td>${escapeXhtml(value!)}</td></tr>`)
    .join('');
  const text: Narrative = {
    status: 'generated',
    div: `<div xmlns="http://www.w3.org/1999/xhtml"><table>${body}</table></div>`,
  };
  return { ...resource, text };
}

/** Escapes text for XHTML element content and attribute values. */
export function escapeXhtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

type Row = [string, string | undefined];

function narrativeRows(resource: Resource): Row[] | undefined {
  switch (resource.resourceType) {
    case 'Condition':
      return conditionRows(resource);
    case 'Observation':
      return observationRows(resource);
    case 'Provenance':
      return provenanceRows(resource);
    case 'ServiceRequest':
    case 'MedicationRequest':
    case 'CommunicationRequest':
    case 'Task':
      return requestRows(resource);
    default:
      return undefined;
  }
}

function conditionRows(c: Condition): Row[] {
  return [
    ['Condition', concept(c.code)],
    ['Verification', concept(c.verificationStatus)],
    ['Clinical status', concept(c.clinicalStatus)],
    ['Onset', c.onsetDateTime],
    ['Recorded', c.recordedDate],
    [
      'Evidence',
      c.evidence
        ?.flatMap((e) => e.code ?? [])
        .map(concept)
        .filter(Boolean)
        .join('; '),
    ],
  ];
}

function observationRows(o: Observation): Row[] {
  let value: string | undefined;
  if (o.valueQuantity) {
    value = `${o.valueQuantity.value ?? ''} ${o.valueQuantity.unit ?? o.valueQuantity.code ?? ''}`.trim();
  } else if (o.valueBoolean !== undefined) {
    value = o.valueBoolean ? 'yes' : 'no';
  } else if (o.valueInteger !== undefined) {
    value = String(o.valueInteger);
  } else if (o.valueCodeableConcept) {
    value = concept(o.valueCodeableConcept);
  }
  const range = o.referenceRange?.[0];
  return [
    ['Observation', concept(o.code)],
    ['Value', value],
    ['Interpretation', o.interpretation?.map(concept).join('; ')],
    [
      'Reference range',
      range?.text ??
        (range?.low?.value !== undefined ? `≥ ${range.low.value} ${range.low.unit ?? ''}`.trim() : undefined),
    ],
    ['Status', o.status],
    ['Effective', o.effectiveDateTime],
  ];
}

function provenanceRows(p: Provenance): Row[] {
  return [
    ['Provenance', p.activity ? concept(p.activity) : undefined],
    ['Recorded', p.recorded],
    ['Source', p.entity?.map((e) => ref(e.what)).join('; ')],
    ['Agents', p.agent?.map((a) => `${concept(a.type)}: ${ref(a.who)}`).join('; ')],
    ['Targets', String(p.target.length)],
  ];
}

function requestRows(r: Resource): Row[] {
  const any = r as Resource & {
    status?: string;
    intent?: string;
    code?: CodeableConcept;
    medicationCodeableConcept?: CodeableConcept;
    category?: CodeableConcept[];
    description?: string;
    payload?: { contentString?: string }[];
    dosageInstruction?: { text?: string }[];
    patientInstruction?: string;
  };
  return [
    [r.resourceType, concept(any.code ?? any.medicationCodeableConcept ?? any.category?.[0])],
    ['Status', [any.status, any.intent].filter(Boolean).join(' / ')],
    ['Description', any.description],
    [
      'Dosage',
      any.dosageInstruction
        ?.map((d) => d.text)
        .filter(Boolean)
        .join('; '),
    ],
    ['Instructions', any.patientInstruction],
    [
      'Message',
      any.payload
        ?.map((p) => p.contentString)
        .filter(Boolean)
        .join(' '),
    ],
  ];
}

function concept(cc: CodeableConcept | undefined): string | undefined {
  if (!cc) {
    return undefined;
  }
  const coded = cc.coding?.find((c) => c.display) ?? cc.coding?.[0];
  return cc.text ?? (coded ? coding(coded) : undefined);
}

function coding(c: Coding): string {
  return c.display ?? c.code ?? '';
}

function ref(r: Reference | undefined): string {
  return r?.display ?? r?.reference ?? '';
}
