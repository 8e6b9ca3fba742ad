export { CANONICAL_BASE, CONTENT_VERSION, FHIR_PACKAGE_ID } from './core/constants';
