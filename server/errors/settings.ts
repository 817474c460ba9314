// Settings: updates to the runtime settings.
import { AppError, describeInvalid, type FieldErrors } from './app-error';

/** 400 for a settings update that is not a JSON object. */
export function settingsNotObject(input: unknown): AppError {
  return new AppError('invalid_settings', 'Expected a JSON object of settings', {
    fields: { _: describeInvalid('settings', 'object', input) },
  });
}

/** 400 for a settings update, naming every bad key of `fields`. */
export function invalidSettings(fields: FieldErrors): AppError {
  return new AppError('invalid_settings', `Invalid settings: ${Object.keys(fields).join(', ')}`, { fields });
}

/** 403 for an update over HTTP that names operator-only settings (`keys`). */
export function operatorOnly(keys: readonly string[]): AppError {
  return new AppError('forbidden_setting', `Only the operator may set ${keys.join(', ')}: use the settings file, the environment or a flag`, {
    fields: Object.fromEntries(keys.map((key) => [key, `${key} is operator-only: set it in the settings file, the environment or with --set`])),
  });
}
