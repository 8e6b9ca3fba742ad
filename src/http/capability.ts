import type {
  CapabilityStatement,
  CapabilityStatementRestResource,
  CapabilityStatementRestSecurity,
  Extension,
} from '@medplum/fhirtypes';
import { CANONICAL_BASE } from '../core/constants';
import type { AuthConfig } from './config';

/** What one route module serves for one resource type; the CapabilityStatement is assembled from these. */
export interface ServedType {
  readonly type: string;
  readonly interactions?: readonly ('read' | 'search-type')[];
  readonly searchParams?: readonly {
    readonly name: string;
    readonly type: string;
    readonly definition?: string;
  }[];
  readonly operations?: readonly {
    readonly name: string;
    readonly definition: string;
    readonly documentation?: string;
  }[];
  /** Profiles the operations on this type apply (CapabilityStatement.rest.resource.supportedProfile). */
  readonly supportedProfiles?: readonly string[];
  readonly documentation?: string;
}

/** SDC Form Response Manager: a server that stores QuestionnaireResponses. */
export const SDC_FORM_RESPONSE_MANAGER =
  'http://hl7.org/fhir/uv/sdc/CapabilityStatement/sdc-form-response-manager';

/**
 * True when the served interactions meet every SHALL of SDC Form Response Manager: create, update,
 * read and search-type on QuestionnaireResponse.
 * See: https://hl7.org/fhir/uv/sdc/STU4/CapabilityStatement-sdc-form-response-manager.html
 * @param served - What is served.
 */
export function meetsFormResponseManager(served: readonly ServedType[]): boolean {
  const have = new Set(
    served
      .filter((s) => s.type === 'QuestionnaireResponse')
      .flatMap((s) => (s.interactions ?? []) as string[])
  );
  return ['create', 'update', 'read', 'search-type'].every((i) => have.has(i));
}

/** Inputs of {@link capabilityStatement} besides the served types. */
export interface CapabilityOptions {
  /** Absolute FHIR base URL of this server. */
  readonly baseUrl: string;
  /** `CapabilityStatement.date`: when this statement was generated. */
  readonly date: string;
  /** Software version. */
  readonly version: string;
  readonly auth?: AuthConfig;
  readonly cors: boolean;
  /** Whether `$re-evaluate` posts to an upstream server (documented, not a capability of its own). */
  readonly upstream: boolean;
}

/**
 * Builds the CapabilityStatement from what the route modules declare they serve: one entry per resource
 * type (interactions, search parameters, operations with their OperationDefinition canonicals, supported
 * profiles), the JSON formats, and SMART-on-FHIR security when auth is on. It claims SDC Form Response
 * Manager only when {@link meetsFormResponseManager} holds.
 * See: https://hl7.org/fhir/R4/capabilitystatement.html
 * @param served - What the route modules serve.
 * @param options - Base URL, date, version, auth.
 */
export function capabilityStatement(
  served: readonly ServedType[],
  options: CapabilityOptions
): CapabilityStatement {
  const resources = new Map<string, CapabilityStatementRestResource>();
  for (const s of served) {
    const entry: CapabilityStatementRestResource = resources.get(s.type) ?? {
      type: s.type as CapabilityStatementRestResource['type'],
    };
    if (s.supportedProfiles?.length) {
      entry.supportedProfile = [...new Set([...(entry.supportedProfile ?? []), ...s.supportedProfiles])];
    }
    if (s.documentation) {
      entry.documentation = entry.documentation
        ? `${entry.documentation} ${s.documentation}`
        : s.documentation;
    }
    for (const code of s.interactions ?? []) {
      entry.interaction = [...(entry.interaction ?? []), { code }];
    }
    if (s.interactions?.includes('read')) {
      entry.versioning = 'versioned';
      entry.readHistory = false;
      entry.updateCreate = false;
      entry.conditionalRead = 'not-supported';
    }
    for (const p of s.searchParams ?? []) {
      entry.searchParam = [
        ...(entry.searchParam ?? []),
        { name: p.name, type: p.type as 'token', ...(p.definition ? { definition: p.definition } : {}) },
      ];
    }
    for (const o of s.operations ?? []) {
      entry.operation = [
        ...(entry.operation ?? []),
        {
          name: o.name,
          definition: o.definition,
          ...(o.documentation ? { documentation: o.documentation } : {}),
        },
      ];
    }
    resources.set(s.type, entry);
  }

  return {
    resourceType: 'CapabilityStatement',
    url: `${CANONICAL_BASE}/CapabilityStatement/re-fhir-server`,
    version: options.version,
    name: 'ReFhirServer',
    title: 're-fhir server',
    status: 'active',
    experimental: false,
    date: options.date,
    publisher: 're-fhir',
    description:
      'Evaluation of retrograde ejaculation over FHIR R4: SDC $extract, R4 $validate and $apply, $re-evaluate ' +
      '(one idempotent transaction Bundle), offline terminology, and the conformance content.',
    kind: 'instance',
    ...(meetsFormResponseManager(served) ? { instantiates: [SDC_FORM_RESPONSE_MANAGER] } : {}),
    software: { name: 're-fhir', version: options.version },
    implementation: { description: 're-fhir FHIR server', url: options.baseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server',
        documentation: options.upstream
          ? '$re-evaluate posts its transaction Bundle to the configured upstream FHIR server and returns the transaction-response.'
          : '$re-evaluate returns the transaction Bundle; nothing is stored here.',
        security: security(options),
        resource: [...resources.values()].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0)),
      },
    ],
  };
}

function security(options: CapabilityOptions): CapabilityStatementRestSecurity {
  const auth = options.auth;
  if (!auth) {
    return {
      cors: options.cors,
      description: 'No authentication: this server is configured for local use only.',
    };
  }
  const extension: Extension[] =
    auth.authorizeUrl && auth.tokenUrl
      ? [
          {
            url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
            extension: [
              { url: 'authorize', valueUri: auth.authorizeUrl },
              { url: 'token', valueUri: auth.tokenUrl },
            ],
          },
        ]
      : [];
  return {
    ...(extension.length > 0 ? { extension } : {}),
    cors: options.cors,
    service: [
      {
        coding: [
          { system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' },
        ],
      },
    ],
    description:
      'Bearer JWT access tokens (SMART v1 and v2 scopes); see [base]/.well-known/smart-configuration.',
  };
}
