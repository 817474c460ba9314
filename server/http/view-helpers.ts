import { join } from 'node:path';
import { describeSpec, type SettingSpec } from '../settings';
import { normalizeValue } from '../setting-kinds';

/** The EJS pages and the page scripts and stylesheets, at the root of the repository. */
export const VIEWS_DIR = join(__dirname, '..', '..', '..', 'views');

/** The formatters of views/static/format.js, which the page scripts use for live figures. */
export interface Format {
  setting(spec: Pick<SettingSpec, 'kind' | 'unit' | 'zero'>, value: unknown): string;
  bytes(v: number | null | undefined): string;
  duration(seconds: number | null | undefined): string;
  int(v: number | null | undefined): string;
  mib(v: number | null | undefined): string;
  percent(v: number | null | undefined): string;
  ms(v: number | null | undefined): string;
  onoff(v: boolean | null | undefined): string;
  load(v: number[] | null | undefined): string;
}

/**
 * One set of formatters for the templates and the browser, so that a figure rendered with the
 * page reads the same as when it is pushed live. The file lives with the page scripts; it is
 * loaded from there rather than compiled, since the browser needs it as it is.
 */
export const format = require(join(VIEWS_DIR, 'static', 'format.js')) as Format;

/** A setting's value as a person reads it: its `zero` word, sizes in binary units, booleans as on/off, lists by item. */
export function formatSetting(spec: SettingSpec, value: unknown): string {
  return format.setting(spec, value);
}

/** "16 – 16,384 px", "1 KiB – 1 GiB", "on or off": the allowed values, for the configuration form. */
export function formatRange(spec: SettingSpec): string {
  switch (spec.kind) {
    case 'boolean': return 'on or off';
    case 'integer': case 'number':
      if (spec.unit === 'bytes') return `${format.bytes(spec.min)} – ${format.bytes(spec.max)}`;
      return `${spec.kind === 'integer' ? format.int(spec.min) : String(spec.min)} – ${formatSetting(spec, spec.max)}`;
    default: return describeSpec(spec);
  }
}

/** An ISO time as "2026-11-24 08:30:05 UTC", until the page script shows it in local time. */
export function formatTime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

/**
 * An item of a list setting as the daemon completes it (defaults, a preset's size and palette),
 * keeping the fields that only fill others (the preset), so that its card shows both.
 */
export function completeItem(spec: SettingSpec, item: Record<string, unknown>): Record<string, unknown> {
  const complete = { ...(normalizeValue(spec, item) as Record<string, unknown>) };
  if (spec.kind !== 'object') return complete;
  for (const [name, field] of Object.entries(spec.fields)) if (field.fills && item[name] !== undefined) complete[name] = item[name];
  return complete;
}

/** Everything above, handed to every template. */
export const viewHelpers = { format, formatSetting, formatRange, formatTime, completeItem };
