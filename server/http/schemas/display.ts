import { z } from 'zod';

/** One log line, as GET /logs and /logs/stream send it; the message is masked as in the journal. */
export const LogEntrySchema = z.strictObject({
  timestamp: z.iso.datetime(),
  level: z.enum(['error', 'warn', 'info', 'debug']),
  message: z.string(),
});

/** GET /logs 200. */
export const LogsSchema = z.strictObject({
  logs: z.array(LogEntrySchema),
  count: z.int().min(0),
  total_buffered: z.int().min(0).max(1000),
});

/** One run of a display command. */
const CommandRunSchema = z.strictObject({
  image_id: z.string(),
  started_at: z.iso.datetime(),
  duration_ms: z.int().min(0),
  exit_code: z.int().nullable(),
  signal: z.string().nullable(),
  timed_out: z.boolean(),
  ok: z.boolean(),
  error: z.string().optional(),
  output: z.array(z.string()).max(20).optional()
    .describe('The last 20 lines of output (500 characters each at most); shown only with the API token when one is set'),
  output_hidden: z.literal(true).optional().describe('Present, in place of output, when the request did not show the API token'),
});

/** One display: its profile (the command only as has_command) and its state. */
const DisplayStateSchema = z.looseObject({
  name: z.string(),
  width: z.int(),
  height: z.int(),
  has_command: z.boolean(),
  shown: z.strictObject({ id: z.string(), at: z.iso.datetime(), frame_url: z.string() }).nullable(),
  running: z.strictObject({ id: z.string(), started_at: z.iso.datetime() }).nullable(),
  last_run: CommandRunSchema.nullable(),
  runs: z.int().min(0),
  failures: z.int().min(0),
  skipped: z.int().min(0),
  pending: z.int().min(0),
});

/** GET /displays 200. */
export const DisplaysSchema = z.strictObject({ displays: z.array(DisplayStateSchema) });

/** POST /displays/{name}/show 202. */
export const ShowQueuedSchema = z.strictObject({ status: z.literal('queued'), display: z.string(), id: z.string() });
