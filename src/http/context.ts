import type { Request, Router } from 'express';
import type { EngineDeps } from '../core/operations';
import type { ServedType } from './capability';
import type { AppConfig } from './config';
import type { KeyedLock } from './keyed-lock';
import type { TaskRunner } from './pool/runner';
import type { ServedContent } from './served-content';
import type { Summarizer } from './summary';
import type { UpstreamClient } from './upstream/client';

/** What the route modules share, built once by `createApp`. */
export interface AppContext {
  readonly deps: EngineDeps;
  readonly config: AppConfig;
  readonly content: ServedContent;
  readonly summarizer: Summarizer;
  readonly upstream?: UpstreamClient;
  readonly lock: KeyedLock;
  /** Where the CPU-heavy operations run: the worker pool, or this thread. */
  readonly tasks: TaskRunner;
  /** Path of the FHIR base, e.g. `/fhir`. */
  readonly fhirBase: string;
  /** Absolute FHIR base URL as the client sees it (configured, else from the request). */
  baseUrl(req: Request): string;
}

/** A route module: its router (mounted at the FHIR base) and what it serves, for the CapabilityStatement. */
export interface Routes {
  readonly router: Router;
  readonly served: readonly ServedType[];
}
