import type { Request, Response } from 'express';
import type { OperationOutcome, Resource } from '@medplum/fhirtypes';

/** The one content type this server produces. */
export const FHIR_JSON = 'application/fhir+json';

/**
 * A resource as the body text this server sends: compact JSON, or indented by 2 when `_pretty=true`.
 * @param resource - The resource.
 * @param pretty - `_pretty=true`.
 */
export function fhirJsonText(resource: Resource, pretty: boolean): string {
  return pretty ? JSON.stringify(resource, null, 2) : JSON.stringify(resource);
}

/**
 * A resource as the UTF-8 bytes of {@link fhirJsonText}, in a Uint8Array that owns its ArrayBuffer whole,
 * so that a pool worker can transfer it to the main thread instead of having it copied or cloned (Buffer's
 * small strings share a pooled slab, which must never be transferred). Lone surrogates become U+FFFD,
 * as `res.send(text)` encodes them.
 * @param resource - The resource.
 * @param pretty - `_pretty=true`.
 */
export function fhirJsonBytes(resource: Resource, pretty: boolean): Uint8Array {
  return new TextEncoder().encode(fhirJsonText(resource, pretty));
}

/**
 * Sends a FHIR resource as `application/fhir+json; charset=utf-8`, indented when `_pretty=true`.
 * @param req - The request (for `_pretty`).
 * @param res - The response.
 * @param status - HTTP status.
 * @param resource - The body.
 */
export function sendResource(req: Request, res: Response, status: number, resource: Resource): void {
  res
    .status(status)
    .type(`${FHIR_JSON}; charset=utf-8`)
    .send(fhirJsonText(resource, req.pretty === true));
}

/**
 * Sends a resource already serialised by {@link fhirJsonBytes} (in a pool worker): the same headers and
 * bytes as {@link sendResource}, without parsing or stringifying anything on this thread.
 * @param res - The response.
 * @param status - HTTP status.
 * @param json - The body's bytes.
 */
export function sendFhirJson(res: Response, status: number, json: Uint8Array): void {
  res
    .status(status)
    .type(`${FHIR_JSON}; charset=utf-8`)
    .send(Buffer.from(json.buffer, json.byteOffset, json.byteLength));
}

/**
 * Sends an OperationOutcome (errors and `$validate` results).
 * @param req - The request.
 * @param res - The response.
 * @param status - HTTP status.
 * @param outcome - The OperationOutcome.
 */
export function sendOutcome(req: Request, res: Response, status: number, outcome: OperationOutcome): void {
  sendResource(req, res, status, outcome);
}
