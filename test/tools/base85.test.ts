import fc from 'fast-check';
import { BASE85_ALPHABET, BASE85_DECODER_SOURCE, encodeBase85 } from '../../src/tools/base85';

// The decoder as the bot bundle carries it: source text, run here as it runs there.
const decodeBase85 = new Function(`${BASE85_DECODER_SOURCE}; return decodeBase85;`)() as (
  text: string,
  length: number
) => Buffer;

describe('base-85 text of the bot JSON store', () => {
  test('round-trips any bytes, whatever their length modulo 4', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const text = encodeBase85(bytes);
        expect(text.length).toBe(Math.ceil(bytes.length / 4) * 5);
        expect([...decodeBase85(text, bytes.length)]).toEqual([...bytes]);
      }),
      { numRuns: 500 }
    );
  });

  test('covers the extremes of a group: all zeros and all 0xff', () => {
    for (const byte of [0, 0xff]) {
      const bytes = new Uint8Array(8).fill(byte);
      expect([...decodeBase85(encodeBase85(bytes), 8)]).toEqual([...bytes]);
    }
    expect(encodeBase85(new Uint8Array([0xff, 0xff, 0xff, 0xff]))).toBe('%nSc0');
  });

  test('uses 85 distinct characters that neither a JS string literal nor JSON escapes', () => {
    expect(new Set(BASE85_ALPHABET).size).toBe(85);
    expect(JSON.stringify(BASE85_ALPHABET)).toBe(`"${BASE85_ALPHABET}"`);
    expect(BASE85_ALPHABET).not.toMatch(/["'`\\\s]/);
  });
});
