import type { Device, Provenance, QuestionnaireResponse, Reference } from '@medplum/fhirtypes';
import { CANONICAL_BASE, CONTENT_VERSION } from '../../../../src/core/constants';
import { nameUuid } from './uuid';

const DEVICE_ID = 're-fhir';

/** Tag system of the Provenance key (Provenance has no `identifier`, so the key is a tag). */
export const PROVENANCE_KEY_SYSTEM = `${CANONICAL_BASE}/sid/provenance-key`;

/**
 * The Provenance of one extraction: the response is the source entity, this software (a contained
 * Device) is the assembler, the response's author is the author, and every created resource is a
 * target. Its key is a name-based UUID of the response's subject, logical id and `authored` time, carried as
 * a `meta.tag` and written by conditional update on that tag: a resubmission of the same response
 * rewrites the same Provenance, while an amended response (a new `authored`) gets a Provenance of its
 * own, so the history of extractions stays visible. A conditional update rather than `PUT
 * Provenance/{id}`: servers such as Medplum refuse ids chosen by the client.
 * See: https://hl7.org/fhir/uv/sdc/STU4/extraction.html and https://hl7.org/fhir/R4/provenance.html
 */
export function buildProvenance(
  response: QuestionnaireResponse,
  targets: readonly string[],
  recorded: Date
): Provenance {
  const device: Device = {
    resourceType: 'Device',
    id: DEVICE_ID,
    deviceName: [{ name: 're-fhir', type: 'manufacturer-name' }],
    version: [{ value: CONTENT_VERSION }],
    url: CANONICAL_BASE,
  };
  const agents: Provenance['agent'] = [
    {
      type: agentType('assembler', 'Assembler'),
      who: { reference: `#${DEVICE_ID}`, display: `re-fhir ${CONTENT_VERSION}` },
    },
  ];
  const author = response.author ? copyReference(response.author) : {};
  // A Reference with nothing but extensions names no one this Provenance can point at.
  if (Object.keys(author).length > 0) {
    agents.push({ type: agentType('author', 'Author'), who: author });
  }
  return {
    resourceType: 'Provenance',
    meta: {
      profile: [`${CANONICAL_BASE}/StructureDefinition/re-provenance`],
      tag: [{ system: PROVENANCE_KEY_SYSTEM, code: provenanceKey(response) }],
    },
    contained: [device],
    target: targets.map((reference) => ({ reference })),
    occurredDateTime: response.authored,
    recorded: recorded.toISOString(),
    activity: {
      coding: [
        {
          system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation',
          code: 'CREATE',
          display: 'create',
        },
      ],
    },
    agent: agents,
    entity: [{ role: 'source', what: { reference: `QuestionnaireResponse/${response.id}` } }],
  };
}

/**
 * The deterministic Provenance key of a response version (a UUID). It covers the subject as well as the
 * response's id: the id is chosen by whoever stored the response, so a key of the id alone could name
 * another patient's Provenance.
 */
export function provenanceKey(response: QuestionnaireResponse): string {
  return nameUuid(
    `provenance|${response.subject?.reference ?? ''}|${response.id ?? ''}|${response.authored ?? ''}`
  );
}

function agentType(code: string, display: string): Provenance['agent'][number]['type'] {
  return {
    coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code, display }],
  };
}

// QuestionnaireResponse.author admits exactly the types Provenance.agent.who admits.
function copyReference(ref: Reference): Provenance['agent'][number]['who'] {
  const { reference, type, display, identifier } = ref;
  return {
    ...(reference ? { reference } : {}),
    ...(type ? { type } : {}),
    ...(identifier ? { identifier } : {}),
    ...(display ? { display } : {}),
  };
}
