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
import { fileResponse, jsonBody, jsonResponse, route, type ParameterDoc } from '../documented-route';
import { DISPLAY_PROFILE } from '../../display/profiles';
import { frameOverrides } from '../../display/frame-store';
import { PREVIEW_FIELDS, previewProfile } from '../../display/preview-profile';
import { jsonSchemaOf } from '../../setting-kinds';
import { readParam, type ParamSpec } from '../schemas/params';


const DISPLAY_PARAM = {
  name: 'display', in: 'query', description: 'The display profile; optional when only one is configured, or for a preview that gives width and height', schema: { type: 'string' },
} as const;

/** `?preview=1`. */
const PREVIEW_FLAG: ParamSpec<'1'> = {
  name: 'preview', in: 'query', schema: { const: '1' }, expected: '1',
  description: 'With 1: render the frame with the profile fields given here over the display\'s, and store nothing',
  read: (text) => (text === '1' ? text : undefined),
};

/** The profile fields a preview takes, documented from their specs. */
const PREVIEW_PARAMS: ParameterDoc[] = PREVIEW_FIELDS.map((field) => {
  const spec = DISPLAY_PROFILE.fields[field];
  const schema = field === 'palette' ? { type: 'string', description: 'a palette name, or #rrggbb colours separated by commas' } : jsonSchemaOf(spec);
  return { name: field, in: 'query', description: `Preview only: ${spec.description}`, schema };
});

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
    params: [DISPLAY_PARAM, PREVIEW_FLAG, ...PREVIEW_PARAMS],
    responses: { 200: fileResponse('The frame; a preview is never stored nor cached', 'image/png') },
    refusals: {
      not_found: 'no such image or display',
      invalid_parameter: 'a bad preview field, a panel too large for the memory budget, or profile fields without preview=1',
      too_many_pixels: 'the frame needs more memory than the memory budget leaves',
      busy: 'previews or the processing queue are full; see Retry-After',
    },
  }, async (ctx) => {
    const image = findImage(deps, ctx.params.id);
    const preview = readParam(PREVIEW_FLAG, ctx.query.preview) !== undefined;
    const fields = PREVIEW_FIELDS.filter((field) => ctx.query[field] !== undefined);
    if (!preview && fields.length > 0) throw invalidParam('preview', '1 with profile fields', ctx.query.preview);
    if (preview) {
      // A panel not saved yet has no profile in force: its fields all come from the query.
      const named = ctx.query.display === '' ? undefined : ctx.query.display;
      const base = named === undefined && deps.displays.profilesInForce().length !== 1 ? undefined : findDisplay(deps, named);
      const { profile, overrides } = previewProfile(base, ctx.query, deps.flow.queue.memory?.budget ?? null, frameOverrides(image));
      const png = await deps.frames.preview(profile, image, overrides);
      ctx.set('Cache-Control', 'no-store');
      ctx.type = 'image/png';
      ctx.body = png;
      return;
    }
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
