import { invalidPreview, type FieldErrors } from '../errors';
import { checkValue, normalizeValue } from '../setting-kinds';
import { DISPLAY_PROFILE, type DisplayProfile } from '../display-setting';
import type { MemoryBudget } from '../memory/memory-budget';
import { frameLimit, panelTooLarge } from './frame-memory';
import type { FrameOverrides } from './frame';

/** The profile fields a preview may set, each as a query parameter of the same name. */
export const PREVIEW_FIELDS = ['width', 'height', 'palette', 'dither', 'fit', 'rotation_mode', 'background', 'saturation'] as const;
type PreviewField = (typeof PREVIEW_FIELDS)[number];

/**
 * A query value as the field's kind reads it: digits as numbers for the numeric fields, a
 * comma-separated palette as a list of colours; anything else as sent, so that the check names it.
 */
function readField(field: PreviewField, text: string): unknown {
  const spec = DISPLAY_PROFILE.fields[field];
  if (spec.kind === 'integer' || spec.kind === 'number') return /^\d+(\.\d+)?$/.test(text) ? Number(text) : text;
  if (field === 'palette' && text.includes(',')) return text.split(',').map((colour) => colour.trim());
  return text;
}

/**
 * The profile a preview is rendered with: `base` (the display in force, or none for a panel not
 * saved yet, which then needs width and height) with the query's fields over it, checked as the
 * setting is and against the largest frame `budget` allows; and the image's own choices the
 * preview keeps, those of `imageOverrides` the query does not set.
 * @throws AppError invalid_parameter naming every bad field by its parameter.
 */
export function previewProfile(
  base: DisplayProfile | undefined,
  query: Readonly<Record<string, string | string[] | undefined>>,
  budget: MemoryBudget | null,
  imageOverrides: FrameOverrides,
): { profile: DisplayProfile; overrides: FrameOverrides } {
  const fields: FieldErrors = Object.create(null);
  const given: Record<string, unknown> = {};
  for (const field of PREVIEW_FIELDS) {
    const raw = query[field];
    if (raw === undefined || raw === '') continue;
    const value = Array.isArray(raw) ? raw : readField(field, raw);
    checkValue(DISPLAY_PROFILE.fields[field], value, field, fields);
    given[field] = value;
  }
  if (Object.keys(fields).length > 0) throw invalidPreview(fields);
  const { command: _command, ...rendering } = base ?? { name: 'preview' };
  const candidate = { ...rendering, ...given };
  checkValue(DISPLAY_PROFILE, candidate, 'display', fields);
  if (Object.keys(fields).length > 0) throw invalidPreview(fields);
  const profile = normalizeValue(DISPLAY_PROFILE, candidate) as DisplayProfile;
  const tooLarge = panelTooLarge('width x height', profile.width, profile.height, frameLimit(budget));
  if (tooLarge) throw invalidPreview({ width: tooLarge });
  const overrides: FrameOverrides = { ...imageOverrides };
  if ('fit' in given) delete overrides.fit;
  if ('rotation_mode' in given) delete overrides.rotation_mode;
  return { profile, overrides };
}
