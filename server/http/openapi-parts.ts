import type { SchemaName } from './schemas';
import type { ParamSpec } from './schemas/params';

/** Building blocks of the OpenAPI document shared by openapi.ts and openapi-dashboard.ts. */

/** A JSON response whose body is the named component. */
export const jsonResponse = (description: string, name: SchemaName) => ({
  description, content: { 'application/json': { schema: { $ref: `#/components/schemas/${name}` } } },
});
/** A refusal: {"error": {...}}. */
export const errorResponse = (description: string) => jsonResponse(description, 'Error');
/** A parameter as OpenAPI shows it, from its declaration. */
export const parameter = (spec: ParamSpec) => ({
  name: spec.name, in: spec.in, required: spec.required ?? spec.in === 'path',
  ...(spec.description ? { description: spec.description } : {}),
  schema: spec.schema,
});
