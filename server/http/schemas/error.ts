import { z } from 'zod';
import { ERROR_CATALOG, type ErrorCode } from '../../errors';

/** Every refusal: {"error": {"code", "message", "fields"?}} with a code from the catalog. */
export const ErrorSchema = z.strictObject({
  error: z.strictObject({
    code: z.enum(Object.keys(ERROR_CATALOG) as [ErrorCode, ...ErrorCode[]]),
    message: z.string(),
    fields: z.record(z.string(), z.string()).optional(),
  }),
});
