import { FHIR_PACKAGE_DEPENDENCIES, packageManifest } from '../../../src/tools/fhir-package/manifest';

describe('packageManifest', () => {
  test('describes the org.refhir.re package for FHIR 4.0.1 with pinned dependencies', () => {
    expect(packageManifest()).toEqual({
      name: 'org.refhir.re',
      version: '0.1.0',
      description: expect.stringContaining('retrograde ejaculation'),
      author: 're-fhir',
      license: 'Apache-2.0',
      type: 'fhir.ig',
      canonical: 'http://re-fhir.org/fhir',
      url: 'http://re-fhir.org/fhir',
      title: 're-fhir: evaluation and management of retrograde ejaculation',
      date: '20261127000000',
      fhirVersions: ['4.0.1'],
      jurisdiction: 'http://unstats.un.org/unsd/methods/m49/m49.htm#001',
      dependencies: {
        'hl7.fhir.r4.core': '4.0.1',
        'hl7.fhir.uv.sdc': '4.0.0',
        'hl7.fhir.uv.cpg': '2.0.0',
        'hl7.fhir.uv.crmi': '1.0.0',
        'hl7.fhir.uv.extensions.r4': '5.2.0',
      },
    });
  });

  test('lists the core package first, as tools take the FHIR version from the first core dependency', () => {
    expect(Object.keys(packageManifest().dependencies)[0]).toBe('hl7.fhir.r4.core');
  });

  test('pins every dependency to an exact version', () => {
    for (const dependency of FHIR_PACKAGE_DEPENDENCIES) {
      expect(dependency.version).toMatch(/^\d+\.\d+\.\d+$/);
    }
  });
});
