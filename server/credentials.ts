/**
 * Credentials inside text, found by their shape and never by comparing with a secret's value: a
 * mask that depended on the value would tell whoever can read the result whether a guess was
 * right. Knows nothing of settings, logs or HTTP.
 */

/** What a set credential shows as in the settings (GET /config, /memory_status, the pages). */
export const SECRET_MASK = '********';

// `scheme://user:` of a URL with a password. The scheme is bounded so that a long run of
// letters and dots cannot make the search quadratic.
const URL_WITH_PASSWORD = /\b[a-z][a-z0-9+.-]{0,31}:\/\/[^\s/?#@:]*:/i;

/**
 * `text` with the password of every `scheme://user:password@host` in it replaced by `mask`; the
 * scheme, user and host stay, so that one still sees where it connects. The password runs to the
 * last `@` of its run of non-space characters, as a URL parser takes the last `@`: a password
 * typed with an unencoded `@`, `/` or `?` is masked whole too. Linear in the length of `text`.
 */
export function maskUrlPasswords(text: string, mask = SECRET_MASK): string {
  if (!text.includes('@')) return text;
  return text.replace(/\S+/g, (run) => {
    const at = run.lastIndexOf('@');
    const start = at < 0 ? null : URL_WITH_PASSWORD.exec(run);
    if (!start) return run;
    const from = start.index + start[0].length;
    return from <= at ? `${run.slice(0, from)}${mask}${run.slice(at)}` : run;
  });
}

/** `value` with {@link maskUrlPasswords} applied to every string in it, into lists and objects. */
export function maskUrlPasswordsIn(value: unknown, mask = SECRET_MASK): unknown {
  if (typeof value === 'string') return maskUrlPasswords(value, mask);
  if (Array.isArray(value)) return value.map((item) => maskUrlPasswordsIn(item, mask));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, maskUrlPasswordsIn(item, mask)]));
  }
  return value;
}

/**
 * A URL to publish as a link (MQTT discovery, image events): its password removed, so that a
 * reader of the broker never gets it; the user stays, so a browser can ask for the password.
 */
export function withoutPassword(url: string): string {
  if (!url.includes('@')) return url;
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = '';
    return parsed.toString();
  } catch {
    return maskUrlPasswords(url, '');
  }
}
