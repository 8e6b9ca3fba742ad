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
  const text = narrativeOf(resource);
  return text === undefined ? resource : { ...resource, text };
}

/**
 * {@link withNarrative} on a resource the caller owns: sets its `text` in place (where the copy would
 * have it: at its old place, or last) and returns it, instead of copying every member of the resource
 * into a new object.
 */
export function narrate<T extends Resource>(resource: T): T {
  const text = narrativeOf(resource);
  if (text !== undefined) {
    (resource as { text?: Narrative }).text = text;
  }
  return resource;
}

function narrativeOf(resource: Resource): Narrative | undefined {
  const body = narrativeBody(resource);
  return body === undefined ? undefined : { status: 'generated', div: TABLE_OPEN + body + TABLE_CLOSE };
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
    row(h.evidence, absent(c.evidence) ? undefined : evidenceText(c.evidence))
  );
}

/** The evidence codes' texts, the empty ones left out, joined by `; ` (what flatMap, filter and join gave). */
function evidenceText(evidence: NonNullable<Condition['evidence']>): string {
  if (!Array.isArray(evidence)) {
    return joinPresent(evidence, concept, '; '); // not FHIR: fails as `flatMap` did
  }
  const texts = new Joiner('; ');
  for (const e of evidence) {
    const codes = e.code ?? [];
    if (Array.isArray(codes)) {
      for (const code of codes) {
        texts.addPresent(concept(code));
      }
    } else {
      texts.addPresent(concept(codes)); // flatMap keeps a value that is not an array as one item
    }
  }
  return texts.text;
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
    row(h.interpretation, absent(o.interpretation) ? undefined : joinAll(o.interpretation, concept, '; ')) +
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
    row(h.source, absent(p.entity) ? undefined : joinAll(p.entity, (e) => ref(e.what), '; ')) +
    row(
      h.agents,
      absent(p.agent) ? undefined : joinAll(p.agent, (a) => `${concept(a.type)}: ${ref(a.who)}`, '; ')
    ) +
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

function statusText(status: string | undefined, intent: string | undefined): string {
  const out = new Joiner(' / ');
  out.addPresent(status);
  out.addPresent(intent);
  return out.text;
}

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
    row(h.status, statusText(any.status, any.intent)) +
    row(h.description, any.description) +
    row(
      h.dosage,
      absent(any.dosageInstruction) ? undefined : joinPresent(any.dosageInstruction, (d) => d.text, '; ')
    ) +
    row(h.instructions, any.patientInstruction) +
    row(h.message, absent(any.payload) ? undefined : joinPresent(any.payload, (p) => p.contentString, ' '))
  );
}

// What `map(f).join(sep)` and `map(f).filter(Boolean).join(sep)` gave, without the arrays.

/** Texts joined by a separator as `Array.prototype.join` joins them. */
class Joiner {
  text = '';
  private count = 0;

  constructor(private readonly sep: string) {}

  /** Adds a part (absent: the empty string). */
  add(part: unknown): void {
    this.text +=
      (this.count++ === 0 ? '' : this.sep) + (part === undefined || part === null ? '' : String(part));
  }

  /** Adds a part unless it is falsy (`filter(Boolean)`). */
  addPresent(part: unknown): void {
    if (part) {
      this.add(part);
    }
  }
}

/** Every item's text joined by `sep`, empty ones left out. */
function joinPresent<T>(items: readonly T[], text: (item: T) => string | undefined, sep: string): string {
  if (!Array.isArray(items)) {
    return items.map(text).filter(Boolean).join(sep); // not FHIR: what it did before, error included
  }
  const out = new Joiner(sep);
  for (const item of items) {
    out.addPresent(text(item));
  }
  return out.text;
}

/** Every item's text joined by `sep`, an absent one as the empty string. */
function joinAll<T>(items: readonly T[], text: (item: T) => string | undefined, sep: string): string {
  if (!Array.isArray(items)) {
    return items.map(text).join(sep); // not FHIR: what it did before, error included
  }
  const out = new Joiner(sep);
  for (const item of items) {
    out.add(text(item));
  }
  return out.text;
}

/** Undefined or null: what `?.` stops at. */
function absent(value: unknown): value is undefined | null {
  return value === undefined || value === null;
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
