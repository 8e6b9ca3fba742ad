import type { Request, Response } from 'express';
import type { OperationOutcome, Resource } from '@medplum/fhirtypes';

/** The one content type this server produces. */
export const FHIR_JSON = 'application/fhir+json';

/**
 * Sends a FHIR resource as `application/fhir+json; charset=utf-8`, indented when `_pretty=true`.
 * @param req - The request (for `_pretty`).
 * @param res - The response.
 * @param status - HTTP status.
 * @param resource - The body.
 */
export function sendResource(req: Request, res: Response, status: number, resource: Resource): void {
  const body = req.pretty ? JSON.stringify(resource, null, 2) : JSON.stringify(resource);
  res.status(status).type(`${FHIR_JSON}; charset=utf-8`).send(body);
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
