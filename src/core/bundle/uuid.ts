import type { Hash } from 'node:crypto';
import { createHash } from 'node:crypto';

/** Namespace of this module's name-based UUIDs (a fixed random UUID). */
const NAMESPACE = '5d0c3f5e-8a3b-4c1e-9f61-2b7d4e9a8c10';

/** SHA-1 state after the namespace's 16 bytes: each name copies it instead of hashing them again. */
const NAMESPACE_STATE: Hash = createHash('sha1').update(Buffer.from(NAMESPACE.replaceAll('-', ''), 'hex'));

/** The hex digit of byte 8's high nibble once the variant bits (`10`) are set, by the digest's digit. */
const VARIANT_DIGIT: Readonly<Record<string, string>> = Object.fromEntries(
  [...'0123456789abcdef'].map((d, n) => [d, ((n & 0x3) | 0x8).toString(16)])
);

/**
 * A name-based UUID (RFC 9562 version 5, SHA-1) of `name` in this module's namespace: the same name
 * always gives the same UUID, so resubmitting a response reproduces the same ids. The version and
 * variant bits are set on the hex digest's digits (no Buffer to edit and format again): byte 6's high
 * nibble becomes `5`, byte 8's keeps its low two bits under `10`.
 */
export function nameUuid(name: string): string {
  const hex = NAMESPACE_STATE.copy().update(name, 'utf8').digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${VARIANT_DIGIT[hex[16]!]!}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
