import { BODY_NOT_JSON, httpError } from './errors';

/** What body-parser's strict JSON parser looks at: the first character that is not JSON whitespace. */
// eslint-disable-next-line no-control-regex -- JSON whitespace, as body-parser names it
const FIRST_NON_WHITESPACE = /^[\x20\x09\x0a\x0d]*([^\x20\x09\x0a\x0d]|$)/;

/**
 * A JSON request body read as raw bytes (already checked to be UTF-8), parsed exactly as the JSON body
 * parser (negotiation.ts `jsonBody`: body-parser's `json`, strict) parses it: a leading byte order
 * mark dropped, an empty body as `{}`, anything but an object or an array refused, and every failure
 * the same 400 the error handler gives body-parser's `entity.parse.failed`. Used where the body is
 * parsed off the main thread (`$re-evaluate` in a pool worker), so that the answer does not depend on
 * which thread parsed it.
 * @param bytes - The body's bytes, valid UTF-8.
 */
export function parseJsonBody(bytes: Uint8Array): unknown {
  let text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) {
    text = text.slice(1); // iconv-lite's UTF-8 decoder, which body-parser uses, drops one BOM
  }
  if (text.length === 0) {
    return {};
  }
  if (text[0] !== '{' && text[0] !== '[') {
    const first = FIRST_NON_WHITESPACE.exec(text)?.[1];
    if (first !== '{' && first !== '[') {
      throw bodyNotJson();
    }
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw bodyNotJson();
  }
}

function bodyNotJson(): Error {
  return httpError(400, 'invalid', BODY_NOT_JSON);
}
