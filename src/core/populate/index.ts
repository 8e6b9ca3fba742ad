export { populateParameters } from './parameters';
export { populateResponse } from './populate';
export { recordQuery, searchRecord, UnsupportedSearch } from './record-search';
export { MARK as POPULATE_MARK, POPULATE_AUTHOR_DISPLAY, POPULATE_EXTENSION } from './extensions';
export type { LaunchContext, PopulateOptions, PopulateResult, RecordQuery } from './types';
