import { createHash } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { AppDeps } from '../../app-deps';
import type { Displays } from '../../display/displays';
import type { DisplayProfile } from '../../display/profiles';
import { renderFingerprint } from '../../display/profiles';
import type { CommandRun } from '../../display/run-command';
import { displayNotFound, invalidParam } from '../../errors';
import { readJson } from '../read-json';
import { sendFile } from '../send-file';
import { holdsToken } from '../auth';
import { findImage } from './images';
import { fileResponse, jsonBody, jsonResponse, route } from '../documented-route';

const DISPLAY_PARAM = {
  name: 'display', in: 'query', description: 'The display profile; optional when only one is configured', schema: { type: 'string' },
} as const;

/**
 * One display as GET /displays shows it: its profile (the command only as a yes/no) and state.
 * The last run's output is shown only when `showOutput` (to a holder of the API token): what a
 * command prints is the operator's, as the command is.
 */
export async function presentDisplay(displays: Displays, profile: DisplayProfile, showOutput: boolean, consumer?: { pending?: number; skipped?: number }) {
  const { command, ...fields } = profile;
  const record = await displays.record(profile.name);
  return {
    ...fields,
    has_command: command !== undefined,
    shown: record.shown && { ...record.shown, frame_url: `/images/${record.shown.id}/frame?display=${profile.name}` },
    running: displays.running(profile.name),
    last_run: showOutput ? record.last_run : withoutOutput(record.last_run),
    runs: record.runs,
    failures: record.failures,
    skipped: record.skipped + (consumer?.skipped ?? 0),
    pending: consumer?.pending ?? 0,
  };
}

/** A run's exit status and timing, its output left out and said to be. */
function withoutOutput(run: CommandRun | null): (Omit<CommandRun, 'output'> & { output_hidden: true }) | null {
  if (!run) return null;
  const { output: _output, ...status } = run;
  return { ...status, output_hidden: true };
}

/**
 * Every display in the settings in force, with its state and its consumer's counts; the output
 * of the last runs only for a request that holds the API token (any request when none is set).
 */
export function presentDisplays(deps: AppDeps, ctx: Context): Promise<Awaited<ReturnType<typeof presentDisplay>>[]> {
  const status = deps.consumers.status();
  const showOutput = holdsToken(ctx, deps.apiToken);
  return Promise.all(deps.displays.profilesInForce().map((p) => presentDisplay(deps.displays, p, showOutput, status[`display-${p.name}`])));
}

/** Display frames and panels: GET /images/:id/frame, GET /displays, POST /displays/:name/show. */
export function displayRoutes(router: Router, deps: AppDeps): void {

  route(router, {
    method: 'get', path: '/images/:id/frame',
    summary: 'The image as the display shows it: an indexed-palette PNG of exactly the panel size, every pixel a palette colour',
    params: [DISPLAY_PARAM],
    responses: { 200: fileResponse('The frame', 'image/png') },
    refusals: { not_found: 'no such image or display' },
  }, async (ctx) => {
    const image = findImage(deps, ctx.params.id);
    const profile = findDisplay(deps, ctx.query.display);
    const frame = await deps.frames.get(profile, image);
    // A frame changes only with its image or its profile's rendering fields.
    const version = createHash('sha1').update(renderFingerprint(profile)).digest('base64url').slice(0, 12);
    sendFile(ctx, { ...frame, type: 'image/png', etag: `"${image.id}-${profile.name}-${version}"`, cacheControl: 'no-cache' });
  });

  route(router, {
    method: 'get', path: '/displays',
    summary: 'Every display profile with its state: the image shown now, the last command run, pending and skipped counts',
    responses: { 200: jsonResponse('The displays', 'Displays') },
  }, async (ctx) => {
    ctx.body = { displays: await presentDisplays(deps, ctx) };
  });

  route(router, {
    method: 'post', path: '/displays/:name/show',
    summary: 'Shows a stored image on the display again; answers at once, GET /displays tells how the run went',
    body: jsonBody({ type: 'object', required: ['id'], properties: { id: { type: 'string' } } }),
    responses: { 202: jsonResponse('Queued', 'ShowQueued') },
    refusals: {
      invalid_parameter: 'no id, or a body that is not JSON',
      not_found: 'no such display or image',
      unsupported_media_type: 'the body is not declared as application/json',
    },
  }, async (ctx) => {
    const profile = findDisplay(deps, ctx.params.name);
    const body = await readJson(ctx, { maxBytes: 4096, code: 'invalid_parameter', hint: '{"id": "20261124T011115123-0001-a1b2"}' });
    const id = (body as { id?: unknown } | null)?.id;
    if (typeof id !== 'string') throw invalidParam('id', 'the id of a stored image', id);
    const image = findImage(deps, id);
    // The refresh takes 20-40 s: answer now; GET /displays shows how it went.
    deps.displays.show(profile, image).catch((err: unknown) => deps.log.warn(`display ${profile.name}: ${image.id} not shown: ${(err as Error).message}`));
    ctx.status = 202;
    ctx.body = { status: 'queued', display: profile.name, id: image.id };
  });
}

function findDisplay(deps: AppDeps, name: unknown): DisplayProfile {
  const profiles = deps.displays.profilesInForce();
  if (name === undefined && profiles.length === 1) return profiles[0];
  const profile = typeof name === 'string' ? deps.displays.profile(name) : undefined;
  if (!profile) {
    const known = profiles.map((p) => p.name).join(', ') || 'none configured';
    throw displayNotFound(name, known);
  }
  return profile;
}
