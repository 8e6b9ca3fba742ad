// Offline terminology services: $expand, $validate-code, $lookup, $translate and fast membership.
export type { CodeSystemIndex, IndexedConcept, PropertyValue } from './codesystem';
export { indexCodeSystem } from './codesystem';
export type { ExpandParameters, Expansion, ExpansionCache, ExpansionEntry } from './expand';
export { computeExpansion, renderExpansion, usedCodeSystems } from './expand';
export type { LookupInput, LookupProperty, LookupResult } from './lookup';
export { lookupInCodeSystem } from './lookup';
export { lookupParameters, translateParameters, validateCodeParameters } from './parameters';
export type { TerminologyResult } from './result';
export { unwrap } from './result';
export type { TerminologySource } from './source';
export { canonicalOf, terminologySource } from './source';
export type { ExpandOptions } from './terminology';
export { shippedTerminology, Terminology } from './terminology';
export type { TranslateInput, TranslateMatch, TranslateResult } from './translate';
export { translateWithConceptMap } from './translate';
export type { ValidateCodeInput, ValidateCodeResult, ValueSetMembership } from './validate-code';
export { validateCodeInCodeSystem, validateCodeInValueSet } from './validate-code';
