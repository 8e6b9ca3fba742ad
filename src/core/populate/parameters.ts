import type { Parameters } from '@medplum/fhirtypes';
import { outcome } from '../outcomes';
import type { PopulateResult } from './types';

/** The SDC `$populate` output Parameters: `response`, and `issues` when there are any. */
export function populateParameters(result: PopulateResult): Parameters {
  return {
    resourceType: 'Parameters',
    parameter: [
      { name: 'response', resource: result.response },
      ...(result.issues.length > 0 ? [{ name: 'issues', resource: outcome(result.issues) }] : []),
    ],
  };
}
