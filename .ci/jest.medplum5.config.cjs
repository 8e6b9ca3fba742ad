// Jest over the repository's own configuration, with every @medplum package the tests and sources load
// taken from a separate install of Medplum 5 (MEDPLUM5_DIR, its node_modules), so that the engine and
// bot tests run on Medplum 5 while the repository keeps 4.5.2 as its devDependencies.
const { join, resolve } = require('node:path');

const root = resolve(__dirname, '..');
const dir = process.env.MEDPLUM5_DIR;
if (!dir) {
  throw new Error('MEDPLUM5_DIR: the directory whose node_modules holds Medplum 5');
}
const modules = join(resolve(dir), 'node_modules');
const { jest } = require(join(root, 'package.json'));

module.exports = {
  ...jest,
  rootDir: root,
  moduleNameMapper: {
    '^@medplum/(core|definitions|fhirtypes|fhir-router|mock)$': join(modules, '@medplum/$1'),
  },
};
