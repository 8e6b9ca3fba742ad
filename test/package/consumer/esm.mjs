// ESM consumer; it also loads the CommonJS copy in the same process (the dual-package case), and
// checks that either copy recognises the other's errors.
import { createRequire } from 'node:module';
import * as lib from 're-fhir';

const require = createRequire(import.meta.url);
const { check } = require('./shared.cjs');
const esmError = check(lib, 'esm', (p) => require.resolve(p));
const cjs = require('re-fhir');
if (cjs.ReFhirError === lib.ReFhirError) {
  throw new Error('expected two copies of the library (ESM and CJS)');
}
const cjsError = check(cjs, 'cjs copy', (p) => require.resolve(p));
if (
  !(cjsError instanceof lib.ReFhirError) ||
  !lib.isReFhirError(cjsError) ||
  !(esmError instanceof cjs.ReFhirError)
) {
  throw new Error('an error of one copy is not recognised by the other');
}
console.log('esm: errors recognised across the ESM and CJS copies');
