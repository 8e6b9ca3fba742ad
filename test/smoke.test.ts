import { CANONICAL_BASE } from '../src';

test('the library exposes its canonical base', () => {
  expect(CANONICAL_BASE).toBe('http://re-fhir.org/fhir');
});
