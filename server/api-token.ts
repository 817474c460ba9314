import { readFile, stat } from 'node:fs/promises';

/** The API token in force and where it came from (for the start-up log, which never shows the token). */
export interface ApiToken {
  value: string;
  origin: string;
}

/** Visible ASCII only, since it travels in a header; long enough not to be guessed. */
const TOKEN_PATTERN = /^[\x21-\x7e]{16,1024}$/;

/**
 * Finds the API token: the API_TOKEN variable's value when set, else the token file when it
 * exists; undefined when neither is, and then the daemon is open to its network.
 * @throws Error when the token is malformed or the file may be read by anyone but its owner.
 */
export async function loadApiToken(fromEnv: string | undefined, file: string): Promise<ApiToken | undefined> {
  if (fromEnv !== undefined && fromEnv !== '') return checked(fromEnv, 'the API_TOKEN variable');
  let mode: number;
  try {
    mode = (await stat(file)).mode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  // As ssh does with keys: a secret others can read is no secret.
  if ((mode & 0o077) !== 0) {
    throw new Error(`${file} may be read by others (mode ${(mode & 0o777).toString(8)}); run chmod 600 ${file}`);
  }
  return checked((await readFile(file, 'utf8')).trim(), file);
}

function checked(value: string, origin: string): ApiToken {
  if (!TOKEN_PATTERN.test(value)) {
    throw new Error(`the API token in ${origin} must be 16 to 1024 visible ASCII characters without spaces`);
  }
  return { value, origin };
}
