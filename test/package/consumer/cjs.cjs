// CommonJS consumer.
const lib = require('re-fhir');
const { check } = require('./shared.cjs');

check(lib, 'cjs', (p) => require.resolve(p));
