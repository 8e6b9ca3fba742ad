import { httpError } from '../errors';

/** SMART v2 permissions: create, read, update, delete, search. */
export type Permission = 'c' | 'r' | 'u' | 'd' | 's';

/** One resource scope, e.g. `patient/Observation.rs` or v1 `user/*.read`. */
export interface ResourceScope {
  readonly context: 'patient' | 'user' | 'system';
  /** A resource type, or `*`. */
  readonly resourceType: string;
  readonly permissions: ReadonlySet<Permission>;
}

/** What a verified token grants. */
export interface AuthContext {
  /** `sub` of the token (for audit; never logged at info). */
  readonly subject?: string;
  readonly scopes: readonly ResourceScope[];
  /** The `patient` launch-context claim, when the token has one. */
  readonly patient?: string;
  /** The verified token itself, kept only to forward it to the upstream (see forward.ts); never logged. */
  readonly token?: string;
}

const V1: Record<string, Permission[]> = {
  read: ['r', 's'],
  write: ['c', 'u', 'd'],
  '*': ['c', 'r', 'u', 'd', 's'],
};

/**
 * Parses SMART resource scopes, v2 (`.cruds` subsets in that order) and v1 (`.read`, `.write`, `.*`).
 * Other scopes (`openid`, `launch`, `offline_access`, …) grant no resource access and are skipped, and
 * so are v2 scopes with a `?` query restriction: this server cannot enforce the restriction, so it
 * does not grant anything from them (deny by default).
 * See: https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html
 * @param scope - The space-separated `scope` claim.
 */
export function parseScopes(scope: string): ResourceScope[] {
  const scopes: ResourceScope[] = [];
  for (const token of scope.split(/\s+/)) {
    const match = /^(patient|user|system)\/([A-Za-z]+|\*)\.([a-z*]+)$/.exec(token);
    if (!match) {
      continue;
    }
    const [, context, resourceType, access] = match as unknown as [
      string,
      ResourceScope['context'],
      string,
      string,
    ];
    let permissions: Permission[] | undefined = V1[access];
    if (!permissions && /^c?r?u?d?s?$/.test(access)) {
      permissions = [...access] as Permission[];
    }
    if (permissions) {
      scopes.push({ context, resourceType, permissions: new Set(permissions) });
    }
  }
  return scopes;
}

/** One permission an operation needs: any of `anyOf` on `resourceType`. */
export interface Need {
  readonly resourceType: string;
  readonly anyOf: readonly Permission[];
}

/**
 * Read access to a resource type: `.r` for a read, `.s` for a search (v1 `.read` grants both).
 * @param resourceType - The type read.
 * @param search - True for a search.
 */
export function readNeed(resourceType: string, search = false): Need {
  return { resourceType, anyOf: [search ? 's' : 'r'] };
}

/** The scope an operation on a submitted QuestionnaireResponse needs: any of create, read or update. */
export const RESPONSE_NEED: Need = { resourceType: 'QuestionnaireResponse', anyOf: ['c', 'r', 'u'] };

/** Every type `$re-evaluate` writes (its transaction is conditional creates/updates of these). */
export const WRITTEN_TYPES = [
  'Condition',
  'Observation',
  'CarePlan',
  'RequestGroup',
  'ServiceRequest',
  'MedicationRequest',
  'CommunicationRequest',
  'Task',
  'Provenance',
] as const;

/** Create and update on every written type. */
export const WRITE_NEEDS: readonly Need[] = WRITTEN_TYPES.flatMap((resourceType) => [
  { resourceType, anyOf: ['c'] as Permission[] },
  { resourceType, anyOf: ['u'] as Permission[] },
]);

function grants(scope: ResourceScope, need: Need): boolean {
  return (
    (scope.resourceType === '*' || scope.resourceType === need.resourceType) &&
    need.anyOf.some((p) => scope.permissions.has(p))
  );
}

function describe(need: Need): string {
  return `${need.resourceType}.${need.anyOf.join('|')}`;
}

/**
 * Checks the request's token against what the operation needs; no-op when auth is off. A need met only
 * by `patient/` scopes also requires the token's `patient` claim to be the subject of the data
 * (`Patient/{patient}`); `user/` and `system/` scopes are not limited to one patient.
 * Throws 403 (`insufficient_scope`) naming what is missing, or 403 for a patient mismatch.
 * @param req - The request, or anything carrying its `auth` (a pool worker gets only that).
 * @param needs - The permissions needed.
 * @param patientData - For operations on patient data: the reference of its subject (possibly absent,
 * which a patient-limited token cannot cover).
 */
export function authorize(
  req: { readonly auth?: Pick<AuthContext, 'scopes' | 'patient'> },
  needs: readonly Need[],
  patientData?: { readonly subject: string | undefined }
): void {
  const auth = req.auth;
  if (!auth) {
    return;
  }
  const missing: string[] = [];
  let patientOnly = false;
  for (const need of needs) {
    const granting = auth.scopes.filter((s) => grants(s, need));
    if (granting.length === 0) {
      missing.push(describe(need));
    } else if (granting.every((s) => s.context === 'patient')) {
      patientOnly = true;
    }
  }
  if (missing.length > 0) {
    throw httpError(
      403,
      'forbidden',
      `The token lacks the scopes this operation needs: ${missing.join(', ')}`,
      {
        'WWW-Authenticate': `Bearer error="insufficient_scope", scope="${missing.join(' ')}"`,
      }
    );
  }
  if (patientOnly && patientData) {
    if (auth.patient === undefined) {
      throw httpError(403, 'forbidden', 'patient/ scopes need a patient claim in the token');
    }
    if (patientData.subject !== `Patient/${auth.patient}`) {
      throw httpError(403, 'forbidden', "The data's subject is not the patient the token is limited to");
    }
  }
}
