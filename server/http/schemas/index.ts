import { z } from 'zod';
import { ErrorSchema } from './error';
import { HealthSchema, LiveSchema, NotReadySchema, ReadySchema } from './health';
import { DeletedAllSchema, ImagePageSchema, ImageRecordSchema, UploadCreatedSchema, UploadSuccessSchema } from './images';
import { ConsumerStatusSchema, memoryStatusSchema, RetentionStatusSchema } from './memory-status';
import { configUpdatedSchema, settingsSchema, settingsUpdateSchema } from './settings';

const Settings = settingsSchema();

/**
 * Every JSON body the API sends or takes, by its OpenAPI component name: declared once here, printed
 * into /openapi.json by openapi.ts, and parsed against real responses by test/http/contract.test.ts.
 */
export const API_SCHEMAS = {
  Error: ErrorSchema,
  ImageRecord: ImageRecordSchema,
  ImagePage: ImagePageSchema,
  UploadCreated: UploadCreatedSchema,
  UploadSuccess: UploadSuccessSchema,
  DeletedAll: DeletedAllSchema,
  Settings,
  SettingsUpdate: settingsUpdateSchema(),
  ConfigUpdated: configUpdatedSchema(Settings),
  RetentionStatus: RetentionStatusSchema,
  ConsumerStatus: ConsumerStatusSchema,
  MemoryStatus: memoryStatusSchema(Settings),
  Health: HealthSchema,
  Live: LiveSchema,
  Ready: ReadySchema,
  NotReady: NotReadySchema,
  OpenApiDocument: z.looseObject({ openapi: z.literal('3.1.0'), info: z.looseObject({}), paths: z.record(z.string(), z.looseObject({})) }),
};

/** The name of a component schema. */
export type SchemaName = keyof typeof API_SCHEMAS;

/** JSON Schema (draft 2020-12, as OpenAPI 3.1 takes it) of every component, with $refs between them. */
export function componentSchemas(): Record<string, object> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(API_SCHEMAS)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    uri: (id) => `#/components/schemas/${id}`,
    override: ({ jsonSchema }) => {
      // z.int() prints JavaScript's safe-integer range, which says nothing a reader needs.
      if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
      if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
    },
  });
  return Object.fromEntries(Object.entries(schemas).map(([id, { $schema: _s, $id: _i, ...schema }]) => [id, schema]));
}
