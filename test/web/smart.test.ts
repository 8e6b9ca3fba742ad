import fc from 'fast-check';
import type { QuestionnaireResponse } from '@medplum/fhirtypes';
import {
  answerCount,
  launchScope,
  practitionerFromFhirUser,
  sameFhirBase,
  smartSettings,
} from '../../src/web/smart';
import { fillLaunchPage } from '../../src/http/web';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

describe('SMART launch helpers of the page', () => {
  test('an EHR launch asks for launch, a standalone one for launch/patient; the other scopes are kept in order', () => {
    const scope = 'launch openid patient/Condition.rs launch/patient fhirUser';
    expect(launchScope(scope, true)).toBe('launch openid patient/Condition.rs fhirUser');
    expect(launchScope(scope, false)).toBe('launch/patient openid patient/Condition.rs fhirUser');
  });

  test('property: exactly one launch scope, and every other scope unchanged', () => {
    const token = fc.stringMatching(/^[A-Za-z/.*]{1,12}$/);
    fc.assert(
      fc.property(
        fc.array(fc.oneof(token, fc.constantFrom('launch', 'launch/patient'))),
        fc.boolean(),
        (scopes, ehr) => {
          const out = launchScope(scopes.join(' '), ehr).split(' ');
          const launches = out.filter((s) => s === 'launch' || s === 'launch/patient');
          expect(launches).toEqual([ehr ? 'launch' : 'launch/patient']);
          expect(out.slice(1)).toEqual(
            scopes.filter((s) => s !== 'launch' && s !== 'launch/patient' && s !== '')
          );
        }
      )
    );
  });

  test('fhirUser names the practitioner only when it is a Practitioner or PractitionerRole', () => {
    expect(practitionerFromFhirUser('Practitioner/123')).toEqual({ reference: 'Practitioner/123' });
    expect(practitionerFromFhirUser('https://ehr.example.org/fhir/PractitionerRole/a-1')).toEqual({
      reference: 'PractitionerRole/a-1',
    });
    expect(practitionerFromFhirUser('Patient/123')).toBeUndefined();
    expect(practitionerFromFhirUser('Practitioner/')).toBeUndefined();
    expect(practitionerFromFhirUser('Practitioner/1 2')).toBeUndefined();
    expect(practitionerFromFhirUser(null)).toBeUndefined();
  });

  test('answers are counted in nested items and under answers', () => {
    const response: QuestionnaireResponse = {
      resourceType: 'QuestionnaireResponse',
      status: 'in-progress',
      item: [
        {
          linkId: 'a',
          answer: [{ valueBoolean: true, item: [{ linkId: 'a1', answer: [{ valueInteger: 1 }] }] }],
        },
        {
          linkId: 'g',
          item: [{ linkId: 'b', answer: [{ valueString: 'x' }, { valueString: 'y' }] }, { linkId: 'c' }],
        },
      ],
    };
    expect(answerCount(response)).toBe(4);
    expect(answerCount(undefined)).toBe(0);
  });

  test('no client id: no SMART settings', () => {
    expect(smartSettings('', 'launch')).toBeUndefined();
    expect(smartSettings(null, null)).toBeUndefined();
    expect(smartSettings(' page ', ' launch openid ', 'https://ehr/fhir')).toEqual({
      clientId: 'page',
      scope: 'launch openid',
      iss: 'https://ehr/fhir',
    });
  });

  test("a launch's iss must be the server's upstream FHIR base (trailing slashes aside)", () => {
    expect(sameFhirBase('https://ehr.example.org/fhir/', 'https://ehr.example.org/fhir')).toBe(true);
    expect(sameFhirBase('https://ehr.example.org/fhir', 'https://ehr.example.org/fhir')).toBe(true);
    expect(sameFhirBase('https://evil.example.org/fhir', 'https://ehr.example.org/fhir')).toBe(false);
    expect(sameFhirBase('https://ehr.example.org/fhir/r4', 'https://ehr.example.org/fhir')).toBe(false);
    expect(sameFhirBase('', '')).toBe(false);
    expect(sameFhirBase('https://ehr.example.org/fhir', '')).toBe(false);
  });
});

describe('launch.html settings filled by the server', () => {
  const html = readFileSync(join(__dirname, '../../src/web/launch.html'), 'utf8');

  test('the client id and scopes are written into the meta elements, escaped', () => {
    const filled = fillLaunchPage(html, {
      fhirBase: '/fhir',
      storage: 'upstream',
      smart: { clientId: 'a"b<c', scope: 'launch openid', iss: 'https://ehr.example.org/fhir?a=1&b=2' },
    });
    expect(filled).toContain(
      '<meta name="re-fhir-smart-iss" content="https://ehr.example.org/fhir?a=1&#38;b=2"'
    );
    expect(filled).toContain('<meta name="re-fhir-smart-client-id" content="a&#34;b&#60;c"');
    expect(filled).toContain('<meta name="re-fhir-smart-scope" content="launch openid"');
  });

  test('without SMART configuration both stay empty', () => {
    const filled = fillLaunchPage(html, { fhirBase: '/fhir', storage: 'none' });
    expect(filled).toContain('<meta name="re-fhir-smart-client-id" content=""');
    expect(filled).toContain('<meta name="re-fhir-smart-scope" content=""');
  });
});
