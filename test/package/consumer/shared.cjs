// What every consumer checks, in either module system: an example evaluates to a transaction Bundle
// with Conditions, and bad input throws a ReFhirError recognised by `isReFhirError` and `instanceof`.
const { readFileSync } = require('node:fs');

const EXAMPLE = 're-fhir/profiles/examples/QuestionnaireResponse-re-example-diabetic-confirmed.json';

function check(lib, label, resolve) {
  const response = JSON.parse(readFileSync(resolve(EXAMPLE), 'utf8'));
  const result = lib.evaluate(response);
  if (result.bundle.type !== 'transaction' || result.conditions.length === 0) {
    throw new Error(`${label}: the example did not evaluate to a transaction with Conditions`);
  }
  let thrown;
  try {
    lib.evaluate({ resourceType: 'QuestionnaireResponse', status: 'no-such-status' });
  } catch (error) {
    thrown = error;
  }
  if (!lib.isReFhirError(thrown) || !(thrown instanceof lib.ReFhirError) || thrown.kind !== 'structural') {
    throw new Error(`${label}: bad input did not throw a structural ReFhirError: ${String(thrown)}`);
  }
  if (thrown.outcome.resourceType !== 'OperationOutcome') {
    throw new Error(`${label}: the error carries no OperationOutcome`);
  }
  console.log(`${label}: ${result.bundle.entry.length} entries, ${result.conditions.length} Conditions`);
  return thrown;
}

module.exports = { check };
