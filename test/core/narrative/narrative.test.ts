import type { Condition, Observation } from '@medplum/fhirtypes';
import { escapeXhtml, withNarrative } from '../../../src/core/narrative/narrative';

describe('generated narratives', () => {
  test('render a Condition from its coded data', () => {
    const condition: Condition = {
      resourceType: 'Condition',
      subject: { reference: 'Patient/p' },
      code: {
        coding: [
          { system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'N53.14', display: 'Retrograde ejaculation' },
        ],
      },
      verificationStatus: { coding: [{ code: 'provisional', display: 'Provisional' }] },
      recordedDate: '2026-11-01',
    };
    expect(withNarrative(condition).text).toEqual({
      status: 'generated',
      div:
        '<div xmlns="http://www.w3.org/1999/xhtml"><table>' +
        '<tr><th>Condition</th><td>Retrograde ejaculation</td></tr>' +
        '<tr><th>Verification</th><td>Provisional</td></tr>' +
        '<tr><th>Recorded</th><td>2026-11-01</td></tr></table></div>',
    });
  });

  test('escape markup in every rendered value', () => {
    const obs: Observation = {
      resourceType: 'Observation',
      status: 'final',
      code: { text: '<script>alert("x")</script> & co' },
      valueBoolean: true,
    };
    const div = withNarrative(obs).text?.div ?? '';
    expect(div).not.toContain('<script>');
    expect(div).toContain('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; co');
  });

  test('leave other resource types untouched', () => {
    const patient = { resourceType: 'Patient' as const };
    expect(withNarrative(patient)).toBe(patient);
  });

  test('escape all five XML special characters', () => {
    expect(escapeXhtml(`&<>"'`)).toBe('&#38;&#60;&#62;&#34;&#39;');
  });
});
