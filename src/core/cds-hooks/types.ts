import type { Bundle, Coding, Resource } from '@medplum/fhirtypes';

/**
 * The CDS Hooks 2.0 shapes this module reads and writes (JSON, not FHIR resources).
 * See: https://cds-hooks.hl7.org/2.0/
 */

/** One entry of the discovery response (`GET /cds-services`). */
export interface CdsService {
  readonly hook: string;
  readonly id: string;
  readonly title?: string;
  readonly description: string;
  /** Prefetch key → FHIR query template with `{{context.…}}` tokens. */
  readonly prefetch?: Readonly<Record<string, string>>;
}

/** The access the CDS client grants the service on its FHIR server. */
export interface FhirAuthorization {
  readonly access_token: string;
  readonly token_type: string;
  readonly expires_in: number;
  readonly scope: string;
  readonly subject: string;
  readonly patient?: string;
}

/** A hook call (`POST /cds-services/{id}`). */
export interface CdsRequest {
  readonly hook: string;
  readonly hookInstance: string;
  readonly fhirServer?: string;
  readonly fhirAuthorization?: FhirAuthorization;
  readonly context: Readonly<Record<string, unknown>> & { readonly patientId: string };
  /** Prefetched resources by key; `null` means the client could not prefetch that key. */
  readonly prefetch?: Readonly<Record<string, Resource | null>>;
}

export interface CdsLink {
  readonly label: string;
  readonly url: string;
  readonly type: 'absolute' | 'smart';
  readonly appContext?: string;
}

export interface CdsCard {
  readonly uuid: string;
  readonly summary: string;
  readonly detail?: string;
  readonly indicator: 'info' | 'warning' | 'critical';
  readonly source: { readonly label: string; readonly url?: string; readonly topic?: Coding };
  readonly links?: readonly CdsLink[];
}

export interface CdsResponse {
  readonly cards: readonly CdsCard[];
}

/** The record the rules read: the prefetched (or fetched) resources, as one collection Bundle. */
export type RecordBundle = Bundle & { type: 'collection' };
