import { z } from 'zod';

/** GET /health: the process answers (kept as the original receiver's seed services had it). */
export const HealthSchema = z.strictObject({ status: z.literal('ok') });

/** GET /health/live: the process serves requests. */
export const LiveSchema = z.strictObject({ status: z.literal('live') });

/** GET /health/ready 200: the daemon can take an upload now. */
export const ReadySchema = z.strictObject({ status: z.literal('ready') });

/** GET /health/ready 503: why an upload would fail now, one sentence each. */
export const NotReadySchema = z.strictObject({ status: z.literal('not_ready'), reasons: z.array(z.string()).min(1) });
