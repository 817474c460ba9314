import type Router from '@koa/router';
import type { RouterMiddleware } from '@koa/router';
import type { ErrorCode } from '../errors';
import type { SchemaName } from './schemas';

/**
 * A route's handler and its documentation, declared together: `route()` registers the handler on
 * the router and keeps the operation for that router's /openapi.json (see openapi.ts). Plain
 * data: the zod schemas the document names load only with the document.
 */

/** A parameter as OpenAPI shows it; a `ParamSpec` of schemas/params.ts is one. */
export interface ParameterDoc {
  name: string;
  in: 'query' | 'path' | 'header';
  /** The JSON Schema of the raw value. */
  schema: Readonly<Record<string, unknown>>;
  description?: string;
  /** @default true for a path parameter, false otherwise */
  required?: boolean;
}

/** One media type of a body: its JSON Schema (OpenAPI gives a media type no description). */
export interface MediaTypeDoc {
  schema: Readonly<Record<string, unknown>>;
}

/** A request body by media type. */
export interface RequestBodyDoc {
  required: boolean;
  /** What each media type holds, where the type does not say. */
  description?: string;
  content: Readonly<Record<string, MediaTypeDoc>>;
}

/** An answer that is not a refusal. */
export interface ResponseDoc {
  description: string;
  content?: Readonly<Record<string, MediaTypeDoc>>;
}

/** Catalog codes a route may refuse with, each with why; the status and body come from the catalog. */
export type Refusals = Readonly<Partial<Record<ErrorCode, string>>>;

/** What a route does, as /openapi.json tells it. */
export interface Operation {
  method: 'get' | 'post' | 'delete';
  /** The name a generated client gives the call; by default derived from method and path (openapi.ts operationIdOf). */
  operationId?: string;
  /** The path as the router takes it (`/images/:id`); a path parameter not in `params` is a string. */
  path: string;
  summary: string;
  params?: readonly ParameterDoc[];
  body?: RequestBodyDoc;
  /** The answers that are not refusals, by status. */
  responses: Readonly<Record<number, ResponseDoc>>;
  /** The refusals this route makes itself; those any route may make are in the document's description. */
  refusals?: Refusals;
}

const OPERATIONS = new WeakMap<Router, Operation[]>();

/** Registers `handler` for the operation's method and path, and records the operation for the router's document. */
export function route(router: Router, operation: Operation, handler: RouterMiddleware): void {
  router[operation.method](operation.path, handler);
  const operations = OPERATIONS.get(router) ?? [];
  operations.push(operation);
  OPERATIONS.set(router, operations);
}

/** The operations `route()` registered on `router`, in registration order. */
export function documentedOperations(router: Router): readonly Operation[] {
  return OPERATIONS.get(router) ?? [];
}

/** The JSON Schema of a file's bytes. */
export const BINARY = { type: 'string', format: 'binary' } as const;

const TEXT = { schema: { type: 'string' } };

/** A JSON body that is the named component of schemas/. */
export function jsonContent(name: SchemaName): Record<string, MediaTypeDoc> {
  return { 'application/json': { schema: { $ref: `#/components/schemas/${name}` } } };
}

/** A JSON answer whose body is the named component. */
export function jsonResponse(description: string, name: SchemaName): ResponseDoc {
  return { description, content: jsonContent(name) };
}

/** An HTML page. */
export function pageResponse(description = 'The page'): ResponseDoc {
  return { description, content: { 'text/html': TEXT } };
}

/** JSON by default (curl, scripts), or a page for a client that prefers text/html. */
export function jsonOrPageResponse(description: string, name: SchemaName): ResponseDoc {
  return { description, content: { ...jsonContent(name), 'text/html': TEXT } };
}

/** An answer whose body is text or bytes of each of `types`. */
export function fileResponse(description: string, ...types: string[]): ResponseDoc {
  const binary = !types.some((type) => type.startsWith('text/'));
  return { description, content: Object.fromEntries(types.map((type) => [type, binary ? { schema: BINARY } : TEXT])) };
}

/** 304 to a conditional GET whose ETag still matches. */
export const NOT_MODIFIED: ResponseDoc = { description: 'Not modified' };

/** A JSON request body that is the named component, or of the given JSON Schema. */
export function jsonBody(schema: SchemaName | Readonly<Record<string, unknown>>): RequestBodyDoc {
  return { required: true, content: typeof schema === 'string' ? jsonContent(schema) : { 'application/json': { schema } } };
}

/** A multipart form whose fields are files. */
export function formContent(...files: string[]): Record<string, MediaTypeDoc> {
  return { 'multipart/form-data': { schema: { type: 'object', properties: Object.fromEntries(files.map((name) => [name, BINARY])) } } };
}
