import { createHash } from 'node:crypto';

/** Namespace of this module's name-based UUIDs (a fixed random UUID). */
const NAMESPACE = '5d0c3f5e-8a3b-4c1e-9f61-2b7d4e9a8c10';

/** The namespace's 16 bytes, decoded once rather than per name. */
const NAMESPACE_BYTES = Buffer.from(NAMESPACE.replaceAll('-', ''), 'hex');

/**
 * A name-based UUID (RFC 9562 version 5, SHA-1) of `name` in this module's namespace: the same name
 * always gives the same UUID, so resubmitting a response reproduces the same ids.
 */
export function nameUuid(name: string): string {
  const hash = createHash('sha1').update(NAMESPACE_BYTES).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
