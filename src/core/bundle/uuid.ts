/** Namespace of this module's name-based UUIDs (a fixed random UUID). */
const NAMESPACE = '5d0c3f5e-8a3b-4c1e-9f61-2b7d4e9a8c10';

/** The namespace's 16 bytes, which every hashed message starts with. */
const NAMESPACE_BYTES = Uint8Array.from(NAMESPACE.replaceAll('-', '').match(/../g)!, (h) => parseInt(h, 16));

const UTF8 = new TextEncoder();
/** SHA-1's message schedule, reused by every call (the hash is synchronous). */
const W = new Int32Array(80);
/** The padded message, reused and grown for longer names: a new buffer per name is external memory the collector counts. */
let buffer = new Uint8Array(256);
let bufferView = new DataView(buffer.buffer);
buffer.set(NAMESPACE_BYTES);

/**
 * A name-based UUID (RFC 9562 version 5, SHA-1) of `name` in this module's namespace: the same name
 * always gives the same UUID, so resubmitting a response reproduces the same ids.
 *
 * SHA-1 is computed here rather than by `node:crypto`: a name is one or two 64-byte blocks, and
 * inside an evaluation a copied native `Hash` (a handle the collector must finalise) took about twice
 * as long at the median and had a long tail (p99 2.4 ms against 15 µs, timed per call on a loaded
 * machine). No buffer is allocated per name. `test/core/bundle/bundle.test.ts` holds it
 * equal to `node:crypto` on generated names, any Unicode included (UTF-8, lone surrogates as U+FFFD,
 * as Buffer and TextEncoder both encode them).
 */
export function nameUuid(name: string): string {
  // Namespace, the name in UTF-8 (at most 3 bytes per UTF-16 unit), 0x80, zeros, the 64-bit length.
  const room = (((16 + name.length * 3 + 8) >>> 6) + 1) << 6;
  if (room > buffer.length) {
    buffer = new Uint8Array(room);
    bufferView = new DataView(buffer.buffer);
    buffer.set(NAMESPACE_BYTES);
  }
  const length = 16 + encodeName(name);
  const end = (((length + 8) >>> 6) + 1) << 6;
  buffer[length] = 0x80;
  buffer.fill(0, length + 1, end - 8);
  bufferView.setUint32(end - 8, Math.floor(length / 0x20000000));
  bufferView.setUint32(end - 4, (length << 3) >>> 0);
  const h = sha1Blocks(bufferView, end);
  const hex = toHex(h[0]!) + toHex(h[1]!) + toHex(h[2]!) + toHex(h[3]!) + toHex(h[4]!);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${VARIANT_DIGIT[hex[16]!]!}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The hex digit of byte 8's high nibble once the variant bits (`10`) are set, by the digest's digit. */
const VARIANT_DIGIT: Readonly<Record<string, string>> = Object.fromEntries(
  [...'0123456789abcdef'].map((d, n) => [d, ((n & 0x3) | 0x8).toString(16)])
);

/** Writes `name` in UTF-8 after the namespace; returns its length in bytes. ASCII is copied directly. */
function encodeName(name: string): number {
  for (let i = 0; i < name.length; i++) {
    const unit = name.charCodeAt(i);
    if (unit >= 0x80) {
      return UTF8.encodeInto(name, buffer.subarray(16)).written;
    }
    buffer[16 + i] = unit;
  }
  return name.length;
}

function toHex(word: number): string {
  return (word >>> 0).toString(16).padStart(8, '0');
}

/** SHA-1 (FIPS 180-4, section 6.1) of padded message blocks: the first `end` bytes of `view`. */
function sha1Blocks(view: DataView, end: number): number[] {
  let h0 = 0x67452301;
  let h1 = 0xefcdab89 | 0;
  let h2 = 0x98badcfe | 0;
  let h3 = 0x10325476;
  let h4 = 0xc3d2e1f0 | 0;
  for (let block = 0; block < end; block += 64) {
    for (let t = 0; t < 16; t++) {
      W[t] = view.getInt32(block + t * 4);
    }
    for (let t = 16; t < 80; t++) {
      const x = W[t - 3]! ^ W[t - 8]! ^ W[t - 14]! ^ W[t - 16]!;
      W[t] = (x << 1) | (x >>> 31);
    }
    let a = h0;
    let b = h1;
    let c = h2;
    let d = h3;
    let e = h4;
    for (let t = 0; t < 80; t++) {
      let f: number;
      let k: number;
      if (t < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (t < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (t < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc | 0;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6 | 0;
      }
      const temp = (((a << 5) | (a >>> 27)) + f + e + k + W[t]!) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = temp;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
  }
  return [h0, h1, h2, h3, h4];
}
