/**
 * Base-85 text for the bot's compressed JSON store (build-bot.ts). The `$deploy` body is JSON, so the
 * store must be text that JSON carries without escapes: base64 spends 4 characters per 3 bytes, base-85
 * 5 per 4, which keeps about 13 KB of the bot's budget free. The alphabet is ZeroMQ's Z85 (printable
 * ASCII without quotes, backslash or space), so neither the JS string literal nor its JSON copy
 * escapes any character of it.
 */

/** Z85's alphabet: the value of each character is its index. */
export const BASE85_ALPHABET =
  '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';

/**
 * Encodes bytes as base-85, four bytes to five characters (big-endian); the last group is padded with
 * zero bytes, so the decoder needs the length.
 * @param bytes - What to encode.
 */
export function encodeBase85(bytes: Uint8Array): string {
  const padded = new Uint8Array(Math.ceil(bytes.length / 4) * 4);
  padded.set(bytes);
  const view = new DataView(padded.buffer);
  let text = '';
  for (let i = 0; i < padded.length; i += 4) {
    let value = view.getUint32(i);
    let group = '';
    for (let k = 0; k < 5; k++) {
      group = BASE85_ALPHABET[value % 85]! + group;
      value = Math.floor(value / 85);
    }
    text += group;
  }
  return text;
}

/**
 * The decoder, as the JavaScript source the bundle carries (it runs in Medplum's bot runtimes, where
 * `Buffer` exists): `decodeBase85(text, length)` returns the first `length` bytes as a Buffer.
 */
export const BASE85_DECODER_SOURCE = `function decodeBase85(text, length) {
  const alphabet = ${JSON.stringify(BASE85_ALPHABET)};
  const values = new Uint8Array(128);
  for (let i = 0; i < 85; i++) values[alphabet.charCodeAt(i)] = i;
  const out = Buffer.alloc((text.length / 5) * 4);
  for (let i = 0, o = 0; i < text.length; i += 5, o += 4) {
    let value = 0;
    for (let k = 0; k < 5; k++) value = value * 85 + values[text.charCodeAt(i + k)];
    out.writeUInt32BE(value, o);
  }
  return out.subarray(0, length);
}`;
