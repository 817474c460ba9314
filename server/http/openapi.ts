import { ERROR_CATALOG, type ErrorCode } from '../errors';
import { PUBLIC_READS } from './auth';
import type { Operation, ParameterDoc, Refusals, ResponseDoc } from './documented-route';
import { componentSchemas } from './schemas';

/**
 * The OpenAPI 3.1 description of the HTTP API, served at /openapi.json, collected from the
 * operations the route modules declare beside their handlers (documented-route.ts). Every JSON body
 * is a component printed from the zod schemas in schemas/, which the contract test parses real
 * answers with; every refusal's status and body come from the error catalog.
 */

/**
 * Refusals any request may meet before or around its route, said once in the document's
 * description rather than on every operation.
 */
export const ANY_ROUTE_REFUSALS: Refusals = {
  invalid_parameter: 'bytes that are not well-formed HTTP/1.1',
  cross_origin_refused: 'a change sent by a page of another origin, by its Origin or Sec-Fetch-Site',
  not_found: 'a path no route answers',
  method_not_allowed: 'a method the path does not answer',
  request_timeout: 'headers or a body that arrive too slowly',
  payload_too_large: 'a body past its route\'s limit: max_upload_bytes for images, 4 KB to 4 MB for JSON',
  headers_too_large: 'request headers past 16 KiB in all',
  too_many_connections: 'more connections at once from one address than allowed',
  internal_error: 'anything unexpected; the details go to the log only',
};

/**
 * The access checks' refusals, listed on every operation they apply to: `host_not_allowed` on all
 * (the Host check runs before routing), `unauthorized` on all but the public reads (auth.ts).
 */
const HOST_REFUSAL: Refusals = { host_not_allowed: 'while no API token is set, a Host that is not an address of the daemon or in allowed_hosts' };
const TOKEN_REFUSAL: Refusals = { unauthorized: 'an API token is set and the request does not carry it, as a change always must and a read must with require_token_for_reads' };

const ERROR_REF = '#/components/schemas/Error';

/**
 * The document for `operations`; its paths are theirs, in their order.
 * @throws Error when two operations have the same operationId.
 */
export function openApiDocument(operations: readonly Operation[]) {
  const paths: Record<string, Record<string, object>> = {};
  const ids = new Set<string>();
  for (const operation of operations) {
    const operationId = operation.operationId ?? operationIdOf(operation);
    if (ids.has(operationId)) throw new Error(`${operation.method} ${operation.path}: operationId ${operationId} is taken`);
    ids.add(operationId);
    (paths[operation.path.replace(/:(\w+)/g, '{$1}')] ??= {})[operation.method] = describeOperation(operation, operationId);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'pi-image-receiver',
      version: '0.1.0',
      license: { name: 'MIT', identifier: 'MIT' },
      description: 'Receives images, turns them upright from EXIF, resizes them and stores them as PNG. '
        + 'Every refusal is {"error": {"code", "message"}} with the status of its code. Besides the refusals each operation lists, '
        + `any request may be refused with ${describeRefusals(ANY_ROUTE_REFUSALS)}.`,
    },
    // Paths are relative to wherever the daemon is reached.
    servers: [{ url: '/' }],
    // Optional: only when the daemon has an API token, and for reads only with require_token_for_reads.
    security: [{}, { bearerToken: [] }],
    paths,
    components: {
      securitySchemes: {
        bearerToken: {
          type: 'http', scheme: 'bearer',
          description: 'The API token, when one is set; reads may carry it as ?access_token= instead. Without it: 401 unauthorized.',
        },
      },
      schemas: componentSchemas(),
    },
  };
}

/**
 * A stable name from method and path: `GET /images/:id/meta` is `getImagesByIdMeta`, `GET /` is
 * `getRoot`; the path's words are split at any character that is not a letter or digit.
 */
export function operationIdOf(operation: Pick<Operation, 'method' | 'path'>): string {
  const words = operation.path.split('/').filter(Boolean).flatMap((segment) => segment.startsWith(':')
    ? ['by', ...segment.slice(1).split(/[^A-Za-z0-9]+/)]
    : segment.split(/[^A-Za-z0-9]+/));
  const capitalized = words.filter(Boolean).map((word) => word[0].toUpperCase() + word.slice(1));
  return operation.method + (capitalized.length > 0 ? capitalized.join('') : 'Root');
}

/** Whether anyone may make this request without the token even with require_token_for_reads. */
function isPublicRead(operation: Operation): boolean {
  return operation.method === 'get'
    && (PUBLIC_READS.paths.has(operation.path) || PUBLIC_READS.prefixes.some((prefix) => operation.path.startsWith(prefix)));
}

function describeOperation(operation: Operation, operationId: string): object {
  const parameters = parametersOf(operation);
  return {
    operationId,
    summary: operation.summary,
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(operation.body ? { requestBody: operation.body } : {}),
    responses: { ...operation.responses, ...refusalResponses(operation) },
  };
}

/** The path's parameters (declared, or else strings), then the others, as OpenAPI shows them. */
function parametersOf(operation: Operation): object[] {
  const declared = operation.params ?? [];
  const inPath = [...operation.path.matchAll(/:(\w+)/g)]
    .filter(([, name]) => !declared.some((p) => p.in === 'path' && p.name === name))
    .map(([, name]): ParameterDoc => ({ name, in: 'path', schema: { type: 'string' } }));
  return [...inPath, ...declared].map((p) => ({
    name: p.name, in: p.in, required: p.required ?? p.in === 'path',
    ...(p.description ? { description: p.description } : {}),
    schema: p.schema,
  }));
}

/**
 * One response per status the operation's refusals have: the Error component, its code narrowed
 * to those refusals' codes.
 * @throws Error when a refusal's status is also one of the operation's answers.
 */
function refusalResponses(operation: Operation): Record<number, ResponseDoc> {
  const refusals: Refusals = { ...HOST_REFUSAL, ...(isPublicRead(operation) ? {} : TOKEN_REFUSAL), ...operation.refusals };
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of Object.keys(refusals) as ErrorCode[]) {
    const status = ERROR_CATALOG[code];
    if (operation.responses[status]) throw new Error(`${operation.method} ${operation.path}: ${code} has the status ${status} of an answer`);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries([...byStatus].map(([status, codes]) => [status, {
    description: codes.map((code) => `${code}: ${refusals[code]}`).join('; '),
    content: {
      'application/json': { schema: { $ref: ERROR_REF, properties: { error: { properties: { code: { enum: codes } } } } } },
    },
  }]));
}

/** "401 unauthorized: why; 403 ...", by status. */
function describeRefusals(refusals: Refusals): string {
  return (Object.keys(refusals) as ErrorCode[])
    .sort((a, b) => ERROR_CATALOG[a] - ERROR_CATALOG[b])
    .map((code) => `${ERROR_CATALOG[code]} ${code}: ${refusals[code]}`)
    .join('; ');
}
