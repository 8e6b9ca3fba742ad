// The README's JSON import, with the import attribute that nodenext requires (bundler accepts it too).
import type { QuestionnaireResponse } from '@medplum/fhirtypes';
import { evaluate } from 're-fhir';
import example from 're-fhir/profiles/examples/QuestionnaireResponse-re-example-diabetic-confirmed.json' with { type: 'json' };

export const conditions = evaluate(example as QuestionnaireResponse).conditions;
