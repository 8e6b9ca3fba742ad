/**
 * CDS Hooks 2.0 services defined by PlanDefinitions (type eca-rule, named-event triggers): discovery,
 * request checks, the record Bundle and cards. Pure: fetching what the client did not prefetch is the
 * adapter's job. See: https://cds-hooks.hl7.org/2.0/
 */
export { cdsCards, EVIDENCE_BASIS_EXTENSION, recordBundle, resolvePrefetchTemplate } from './cards';
export type { CardOptions } from './cards';
export { checkCdsRequest, CDS_REQUEST_SCHEMA } from './request';
export { hookDefinitions, prefetchTemplates } from './services';
export type { HookDefinition } from './services';
export type {
  CdsCard,
  CdsLink,
  CdsRequest,
  CdsResponse,
  CdsService,
  FhirAuthorization,
  RecordBundle,
} from './types';
