// An application that an esbuild bundle is made of (see check-package.mjs for the externals).
import { createRequire } from 'node:module';
import * as lib from 're-fhir';

const require = createRequire(import.meta.url);
const { check } = require('./shared.cjs');
check(lib, 'esbuild bundle', (p) => require.resolve(p));
