import type { MedplumClient } from '@medplum/core';
import { OperationOutcomeError } from '@medplum/core';
import type { Bundle, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { issue, outcome } from '../core/outcomes';
import { resolveWritten, splitTransaction, writtenAs } from '../core/bundle/chunks';
import { operationOutcomeError } from './operation-outcome-error';

/**
 * The most entries Medplum accepts in a transaction that holds a conditional write, when the
 * project runs transactions (feature `transaction-bundles`): @medplum/fhir-router's
 * `maxSerializableTransactionEntries` (4.5.2 and later), above which it answers `400 Transaction
 * requires strict isolation but has too many entries`. Every entry the bot writes is conditional.
 */
export const MEDPLUM_MAX_TRANSACTION_ENTRIES = 8;

/**
 * Writes a transaction Bundle as consecutive transactions of at most `maxEntries` entries, each
 * resource after everything it references, rewriting the references of every later transaction
 * to the `Type/id` the server gave the resources already written. A Bundle that fits is sent as
 * one transaction. Returns where each entry was written, by `fullUrl`, as `Type/id`.
 *
 * A transaction that fails stops the write. Its error is thrown as it is when the Bundle was sent
 * whole; otherwise it becomes the server's OperationOutcome (or an `exception` for a client error)
 * followed by an `informational` issue saying which transaction failed and how many resources
 * the ones before it wrote. With conditional updates only, running the same Bundle again writes
 * the rest and duplicates nothing.
 * @param medplum - The client.
 * @param bundle - A transaction Bundle of conditional writes.
 * @param maxEntries - The most entries per transaction; Medplum's limit by default.
 */
export async function writeTransaction(
  medplum: MedplumClient,
  bundle: Bundle,
  maxEntries: number = MEDPLUM_MAX_TRANSACTION_ENTRIES
): Promise<Map<string, string>> {
  const parts = splitTransaction(bundle, maxEntries);
  const written = new Map<string, string>();
  for (const [i, part] of parts.entries()) {
    try {
      for (const [fullUrl, where] of await executeTransaction(medplum, resolveWritten(part, written))) {
        written.set(fullUrl, where);
      }
    } catch (error) {
      throw parts.length === 1 ? error : partFailed(error, part, i, parts.length, written.size);
    }
  }
  return written;
}

/** The server's outcome (or the client's error as an `exception`), and where the write stopped. */
function partFailed(
  error: unknown,
  part: Bundle,
  index: number,
  count: number,
  writtenBefore: number
): OperationOutcomeError {
  const stopped = issue(
    'information',
    'informational',
    `Transaction ${index + 1} of ${count} failed` +
      (index > 0 ? `, after the transactions before it wrote ${writtenBefore} resources` : '') +
      (index < count - 1 ? '; the ones after it were not sent' : '') +
      '. Running the bot again on the same response writes the rest and duplicates nothing ' +
      '(every write is a conditional update).'
  );
  stopped.diagnostics = (part.entry ?? []).map((e) => `${e.request?.method} ${e.request?.url}`).join('\n');
  if (error instanceof OperationOutcomeError) {
    return operationOutcomeError({ ...error.outcome, issue: [...error.outcome.issue, stopped] }, error);
  }
  const failure = issue('error', 'exception', error instanceof Error ? error.message : String(error));
  return operationOutcomeError(outcome([failure, stopped]), error);
}

/**
 * Executes a transaction and returns where each entry was written, by `fullUrl`, as `Type/id`
 * (nothing, and no request, for a transaction without entries).
 * A transaction the server rejects throws (MedplumClient raises an OperationOutcomeError); a
 * response with a failed entry throws too, with the entries' outcomes (a server that runs a
 * transaction as a batch, like Medplum's in-memory test server, may have written the others).
 * @param medplum - The client.
 * @param bundle - A transaction Bundle.
 */
export async function executeTransaction(
  medplum: MedplumClient,
  bundle: Bundle
): Promise<Map<string, string>> {
  const requests = bundle.entry ?? [];
  if (requests.length === 0) {
    return new Map(); // Medplum refuses an empty transaction, and there is nothing to write.
  }
  const response = await medplum.executeBatch(bundle);
  const results = response.entry ?? [];
  const written = new Map<string, string>();
  const failures: OperationOutcomeIssue[] = [];
  requests.forEach((request, i) => {
    const result = results[i]?.response;
    const where = writtenAs(results[i]);
    if (!result?.status?.startsWith('2') || !where) {
      failures.push(
        issue(
          'error',
          'exception',
          `${request.request?.method ?? '?'} ${request.request?.url ?? '?'} failed: ${result?.status ?? 'no response'}`,
          `Bundle.entry[${i}]`
        ),
        ...((result?.outcome?.issue ?? []) as OperationOutcomeIssue[])
      );
      return;
    }
    if (request.fullUrl) {
      written.set(request.fullUrl, where);
    }
  });
  if (failures.length > 0) {
    throw operationOutcomeError(outcome(failures));
  }
  return written;
}
