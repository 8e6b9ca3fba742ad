import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Resource } from '@medplum/fhirtypes';
import { compiledFhirPathCount, evaluateFhirPath } from '../../../src/core/fhirpath/fhirpath';
import { createValidator } from '../../../src/core/validation/validator';
import { r4Definitions, r4Schema } from '../../helpers/validation';

// A heap measurement needs a full collection first.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapUsedMB(): number {
  for (let i = 0; i < 3; i++) {
    gc();
  }
  return process.memoryUsage().heapUsed / 2 ** 20;
}

describe("memory stays bounded under input of the caller's choosing (issue 14.3)", () => {
  test('10,000 distinct extension URLs leave the heap flat', () => {
    const validator = createValidator({ definitions: r4Definitions(), schema: r4Schema() });
    // Long URLs, so that keeping one entry per URL would show: 10,000 × 1 KB is about 10 MB.
    // Parsed from JSON text, as a request body is (flat strings, nothing shared between requests).
    const withExtension = (n: number): Resource =>
      JSON.parse(
        JSON.stringify({
          resourceType: 'Condition',
          subject: { reference: 'Patient/p' },
          extension: [{ url: `http://attacker.example/${n}/${'x'.repeat(1000)}`, valueString: 'v' }],
        })
      ) as Resource;
    for (let n = 0; n < 1000; n++) {
      expect(validator.validate(withExtension(n)).failure).toBeUndefined();
    }
    const before = heapUsedMB();
    for (let n = 1000; n < 11_000; n++) {
      validator.validate(withExtension(n));
    }
    const after = heapUsedMB();
    expect(after - before).toBeLessThan(2);
  });

  test('distinct expression texts do not grow the compiled-expression caches past their bound', () => {
    for (let n = 0; n < 10_000; n++) {
      expect(evaluateFhirPath(`${n} + 1`, {})).toEqual([n + 1]);
    }
    expect(compiledFhirPathCount()).toBeLessThanOrEqual(2 * 4096);
  });
});
