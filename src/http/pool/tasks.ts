import type {
  Bundle,
  CarePlan,
  CodeSystem,
  OperationOutcome,
  OperationOutcomeIssue,
  PlanDefinition,
  Questionnaire,
  Resource,
  ValueSet,
} from '@medplum/fhirtypes';
import type { EngineDeps, EvaluateOptions } from '../../core/operations';
import {
  applyOperation,
  collectResponseIssues,
  evaluateResponse,
  extractOperation,
} from '../../core/operations';
import type { FailureKind } from '../../core/outcomes';
import { issue, ReFhirError } from '../../core/outcomes';
import type { ApplyParameters } from '../../core/plan';
import type {
  ExpandParameters,
  TerminologyResult,
  ValidateCodeInput,
  ValidateCodeResult,
} from '../../core/terminology';
import { isObject } from '../../core/json';
import { framesOf, HttpError } from '../errors';
import { fhirJsonBytes } from '../send';
import type { AuthContext } from '../auth/scopes';
import { parseJsonBody } from '../json-text';
import { reEvaluateInput } from '../re-evaluate-input';

/**
 * The CPU-heavy operations, as plain data (so they can be posted to a worker thread). Everything else
 * (parsing parameters, authorization, 404s on the registry) stays in the routes.
 */
export type Task =
  | { readonly op: 'validate'; readonly resource: unknown; readonly profile?: string }
  | { readonly op: 'extract'; readonly response: unknown; readonly questionnaire?: Questionnaire }
  | {
      readonly op: 're-evaluate';
      readonly response: unknown;
      readonly options: EvaluateOptions;
      /**
       * Answer with the Bundle serialised (EncodedEvaluation) rather than as an object: the worker
       * stringifies it and transfers the bytes, so the main thread neither clones nor stringifies it.
       */
      readonly encode?: { readonly pretty: boolean };
    }
  | {
      /**
       * `$re-evaluate` from the request body's bytes (checked UTF-8, transferred, not copied): the worker
       * parses them and reads the input as the route would (re-evaluate-input.ts), so the main thread
       * neither parses nor clones the body. Answers an EncodedEvaluation.
       */
      readonly op: 're-evaluate-body';
      readonly body: Uint8Array;
      /** The request's token scopes and patient claim (never the token), when auth is on. */
      readonly auth?: Pick<AuthContext, 'scopes' | 'patient'>;
      /** The server's INLINE_DEFINITIONS setting. */
      readonly inlineDefinitions: boolean;
      readonly pretty: boolean;
    }
  | {
      readonly op: 'apply';
      /** A shipped PlanDefinition (by id or canonical), or one given inline. */
      readonly planDefinition:
        { readonly id: string } | { readonly canonical: string } | { readonly inline: PlanDefinition };
      readonly params: Omit<ApplyParameters, 'data'>;
      readonly data?: Bundle;
    }
  | { readonly op: 'expand'; readonly valueSet: ValueSet; readonly options: ExpandParameters }
  | { readonly op: 'validate-code'; readonly valueSet: ValueSet; readonly input: ValidateCodeInput }
  | {
      readonly op: 'validate-code-system';
      readonly codeSystem: CodeSystem;
      readonly input: ValidateCodeInput;
    };

/** What each task answers. */
export interface TaskResults {
  validate: OperationOutcomeIssue[];
  extract: { bundle: Bundle; issues: OperationOutcomeIssue[] };
  're-evaluate': { bundle: Bundle; issues: OperationOutcomeIssue[] };
  're-evaluate-body': EncodedEvaluation;
  apply: CarePlan;
  expand: TerminologyResult<ValueSet>;
  'validate-code': TerminologyResult<ValidateCodeResult>;
  'validate-code-system': TerminologyResult<ValidateCodeResult>;
}

/**
 * What a `re-evaluate` task with `encode` answers: the Bundle as the response body's bytes
 * (send.ts `fhirJsonBytes`) and the two counts the route logs.
 */
export interface EncodedEvaluation {
  readonly json: Uint8Array;
  readonly entries: number;
  readonly warnings: number;
}

export type ResultOf<T extends Task> = T extends { readonly encode: object }
  ? EncodedEvaluation
  : TaskResults[T['op']];

/**
 * The ArrayBuffers of a task's answer that the worker hands over rather than copies: the body of an
 * EncodedEvaluation (it owns its buffer whole, and the worker never reads it again).
 * @param value - What runTask returned.
 */
export function transferablesOf(value: unknown): ArrayBuffer[] {
  const json = isObject(value) ? value.json : undefined;
  return json instanceof Uint8Array && json.byteOffset === 0 && json.byteLength === json.buffer.byteLength
    ? [json.buffer as ArrayBuffer]
    : [];
}

/**
 * The ArrayBuffers a task hands to the worker rather than copies: a request body it owns whole (the
 * route gives it so; the main thread never reads it again).
 * @param task - The task.
 */
export function taskTransferables(task: Task): ArrayBuffer[] {
  return task.op === 're-evaluate-body' ? transferablesOf({ json: task.body }) : [];
}

/**
 * Runs one task on an engine: in a worker thread (pool/worker.ts), or in this thread (the in-process
 * runner). Throws what the engine throws (ReFhirError) or an HttpError.
 * @param deps - The engine.
 * @param task - The task.
 */
export function runTask<T extends Task>(deps: EngineDeps, task: T): ResultOf<T> {
  return run(deps, task) as ResultOf<T>;
}

function run(deps: EngineDeps, task: Task): TaskResults[keyof TaskResults] | EncodedEvaluation {
  switch (task.op) {
    case 'validate':
      return collectResponseIssues(
        task.resource,
        deps,
        task.profile ? { responseProfiles: [task.profile] } : {}
      ).issues;
    case 'extract': {
      const { bundle, issues } = extractOperation(task.response, deps, { questionnaire: task.questionnaire });
      return { bundle, issues };
    }
    case 're-evaluate': {
      const { bundle, issues } = evaluateResponse(task.response, deps, task.options);
      return task.encode ? encoded({ bundle, issues }, task.encode.pretty) : { bundle, issues };
    }
    case 're-evaluate-body': {
      const input = reEvaluateInput(parseJsonBody(task.body), task, {
        config: { inlineDefinitions: task.inlineDefinitions },
      });
      return encoded(evaluateResponse(input.submitted, deps, input.options), task.pretty);
    }
    case 'apply': {
      const target = task.planDefinition;
      const planDefinition =
        'inline' in target
          ? target.inline
          : 'id' in target
            ? deps.registry.read<PlanDefinition>('PlanDefinition', target.id)
            : deps.registry.resolve<PlanDefinition>(target.canonical, 'PlanDefinition');
      if (!planDefinition) {
        throw new ReFhirError('not-found', [issue('error', 'not-found', 'The PlanDefinition is not known')]);
      }
      if (task.data) {
        checkStructure(deps, task.data);
      }
      return applyOperation(planDefinition, { ...task.params, data: task.data }, deps).carePlan;
    }
    case 'expand':
      checkStructure(deps, task.valueSet);
      return deps.terminology.expand(task.valueSet, { ...task.options, clock: deps.clock });
    case 'validate-code':
      checkStructure(deps, task.valueSet);
      return deps.terminology.validateCode(task.valueSet, task.input);
    case 'validate-code-system':
      checkStructure(deps, task.codeSystem);
      return deps.terminology.validateCodeInCodeSystem(task.codeSystem, task.input);
  }
}

function encoded(
  { bundle, issues }: { bundle: Bundle; issues: OperationOutcomeIssue[] },
  pretty: boolean
): EncodedEvaluation {
  return {
    json: fhirJsonBytes(bundle, pretty),
    entries: bundle.entry?.length ?? 0,
    warnings: issues.filter((i) => i.severity === 'warning').length,
  };
}

/** A resource given inline must be valid FHIR before it is used (400 otherwise). */
function checkStructure(deps: EngineDeps, resource: Resource): void {
  const result = deps.validator.validate(resource);
  if (result.failure === 'structural') {
    throw new ReFhirError('structural', result.issues);
  }
}

/** A task's failure as it crosses from a worker: only data, never an Error object. */
export type TaskError =
  | { readonly type: 'engine'; readonly kind: FailureKind; readonly outcome: OperationOutcome }
  | {
      readonly type: 'http';
      readonly status: number;
      readonly outcome: OperationOutcome;
      readonly headers: Record<string, string>;
    }
  | { readonly type: 'internal'; readonly name: string; readonly frames?: string };

/** Serialises what a task threw. The message of an unexpected error is left out (it may quote input). */
export function toTaskError(err: unknown): TaskError {
  if (err instanceof ReFhirError) {
    return { type: 'engine', kind: err.kind, outcome: err.outcome };
  }
  if (err instanceof HttpError) {
    return { type: 'http', status: err.status, outcome: err.outcome, headers: { ...err.headers } };
  }
  return err instanceof Error
    ? { type: 'internal', name: err.name, frames: framesOf(err) }
    : { type: 'internal', name: typeof err };
}

/** The error a TaskError stands for, for the error handler (which maps and logs it as usual). */
export function fromTaskError(err: TaskError): Error {
  switch (err.type) {
    case 'engine':
      return new ReFhirError(err.kind, err.outcome.issue ?? []);
    case 'http':
      return new HttpError(err.status, err.outcome, err.headers);
    case 'internal': {
      const error = new Error('A task failed');
      error.name = err.name;
      error.stack = `${err.name}: A task failed\n${err.frames ?? ''}`;
      return error;
    }
  }
}
