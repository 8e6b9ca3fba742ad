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
 * rendered; every string is escaped. The markup around the values (row heads, the table) is built and
 * escaped once when the module loads; per resource only the values are escaped and joined.
 * See: https://hl7.org/fhir/R4/narrative.html
 */
export function withNarrative<T extends Resource>(resource: T): T {
  const body = narrativeBody(resource);
  if (body === undefined) {
    return resource;
  }
  const text: Narrative = { status: 'generated', div: TABLE_OPEN + body + TABLE_CLOSE };
  return { ...resource, text };
}

const TABLE_OPEN = '<div xmlns="http://www.w3.org/1999/xhtml"><table>';
const TABLE_CLOSE = '</table></div>';
const SPECIAL = /[&<>"']/;
const SPECIALS = /[&<>"']/g;
const escapeChar = (c: string): string => `&#${c.charCodeAt(0)};`;

/** Escapes text for XHTML element content and attribute values. */
export function escapeXhtml(value: string): string {
  // Most values have nothing to escape: test first, replace only when needed (a non-string still throws).
  return typeof value === 'string' && !SPECIAL.test(value) ? value : value.replace(SPECIALS, escapeChar);
}

/** The opening of a table row under a fixed label, escaped once when the module loads. */
const head = (label: string): string => `<tr><th>${escapeXhtml(label)}</th><td>`;

/** One table row, or nothing for an absent or empty value. */
function row(headOf: string, value: string | undefined): string {
  return value === undefined || value === '' ? '' : headOf + escapeXhtml(value) + '</td></tr>';
}

function narrativeBody(resource: Resource): string | undefined {
  switch (resource.resourceType) {
    case 'Condition':
      return conditionBody(resource);
    case 'Observation':
      return observationBody(resource);
    case 'Provenance':
      return provenanceBody(resource);
    case 'ServiceRequest':
    case 'MedicationRequest':
    case 'CommunicationRequest':
    case 'Task':
      return requestBody(resource);
    default:
      return undefined;
  }
}

const CONDITION = {
  condition: head('Condition'),
  verification: head('Verification'),
  clinicalStatus: head('Clinical status'),
  onset: head('Onset'),
  recorded: head('Recorded'),
  evidence: head('Evidence'),
};

function conditionBody(c: Condition): string {
  const h = CONDITION;
  return (
    row(h.condition, concept(c.code)) +
    row(h.verification, concept(c.verificationStatus)) +
    row(h.clinicalStatus, concept(c.clinicalStatus)) +
    row(h.onset, c.onsetDateTime) +
    row(h.recorded, c.recordedDate) +
    row(
      h.evidence,
      c.evidence
        ?.flatMap((e) => e.code ?? [])
        .map(concept)
        .filter(Boolean)
        .join('; ')
    )
  );
}

const OBSERVATION = {
  observation: head('Observation'),
  value: head('Value'),
  interpretation: head('Interpretation'),
  range: head('Reference range'),
  status: head('Status'),
  effective: head('Effective'),
};

function observationBody(o: Observation): string {
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
  const h = OBSERVATION;
  return (
    row(h.observation, concept(o.code)) +
    row(h.value, value) +
    row(h.interpretation, o.interpretation?.map(concept).join('; ')) +
    row(
      h.range,
      range?.text ??
        (range?.low?.value !== undefined ? `≥ ${range.low.value} ${range.low.unit ?? ''}`.trim() : undefined)
    ) +
    row(h.status, o.status) +
    row(h.effective, o.effectiveDateTime)
  );
}

const PROVENANCE = {
  provenance: head('Provenance'),
  recorded: head('Recorded'),
  source: head('Source'),
  agents: head('Agents'),
  targets: head('Targets'),
};

function provenanceBody(p: Provenance): string {
  const h = PROVENANCE;
  return (
    row(h.provenance, p.activity ? concept(p.activity) : undefined) +
    row(h.recorded, p.recorded) +
    row(h.source, p.entity?.map((e) => ref(e.what)).join('; ')) +
    row(h.agents, p.agent?.map((a) => `${concept(a.type)}: ${ref(a.who)}`).join('; ')) +
    row(h.targets, String(p.target.length))
  );
}

const REQUEST = {
  status: head('Status'),
  description: head('Description'),
  dosage: head('Dosage'),
  instructions: head('Instructions'),
  message: head('Message'),
};
/** The first row's head by resource type (the label is the type), built on first use. */
const requestHeads = new Map<string, string>();

function requestBody(r: Resource): string {
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
  let typeHead = requestHeads.get(r.resourceType); // Bounded: four resource types reach here.
  if (typeHead === undefined) {
    typeHead = head(r.resourceType);
    requestHeads.set(r.resourceType, typeHead);
  }
  const h = REQUEST;
  return (
    row(typeHead, concept(any.code ?? any.medicationCodeableConcept ?? any.category?.[0])) +
    row(h.status, [any.status, any.intent].filter(Boolean).join(' / ')) +
    row(h.description, any.description) +
    row(
      h.dosage,
      any.dosageInstruction
        ?.map((d) => d.text)
        .filter(Boolean)
        .join('; ')
    ) +
    row(h.instructions, any.patientInstruction) +
    row(
      h.message,
      any.payload
        ?.map((p) => p.contentString)
        .filter(Boolean)
        .join(' ')
    )
  );
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
