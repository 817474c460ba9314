import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isLogLevel, type LogLevel } from './log';
import { isOperatorOnly } from './setting-kinds';
import { SETTING_GROUPS, SETTING_KEYS, SETTING_SPECS, describeSpec } from './settings';

/** How the daemon runs, as opposed to the runtime settings it processes images with. */
export interface DaemonOptions {
  port: number;
  host: string;
  /** State directory: images, temp files and, by default, the runtime settings file. */
  dataDir: string;
  /** Operator's settings file (for example /etc/pi-image-receiver/settings.json), when given. */
  settingsFile?: string;
  /** Where runtime updates from POST /config are persisted. */
  runtimeConfigFile: string;
  logLevel: LogLevel;
  /** True under systemd with stdout on the journal: syslog priorities instead of timestamps. */
  journald: boolean;
  /** How long SIGTERM waits for images in flight before exiting. */
  shutdownGraceMs: number;
  /** Where the API token may be kept, read at start (API_TOKEN wins); mode 600. */
  apiTokenFile: string;
  /** Client limits, so that slow or idle clients cannot hold the daemon. */
  limits: ConnectionLimits;
  /** `--set key=value` flags: settings above the environment, below POST /config. */
  settings: string[];
  /**
   * The command that runs the worker processes (images, OpenCV) in place of this node, the
   * script appended: for a daemon run under an emulator (qemu-user), which cannot exec node itself.
   */
  workerExec?: string[];
  help: boolean;
}

/** How long a client may take and how many may be connected; the daemon's defence against slow clients. */
export interface ConnectionLimits {
  /** Time to send the request line and headers. */
  headersTimeoutMs: number;
  /** Time to send the whole request, body included: bounds an upload that trickles. */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection is kept. */
  keepAliveTimeoutMs: number;
  /** Connections at once; more are closed as they arrive. */
  maxConnections: number;
  /** Connections at once from one client (an IPv4 address, an IPv6 /64); more are answered 429 and closed. */
  maxConnectionsPerClient: number;
  /** The slowest a request body may arrive, averaged over `bodyRateWindowMs`; slower is cut with 408. */
  minBodyBytesPerSecond: number;
  /** The span the body rate is averaged over. */
  bodyRateWindowMs: number;
}

const FLAGS = {
  port: { env: 'PORT', help: 'TCP port to listen on', fallback: '8000' },
  host: { env: 'HOST', help: 'address to listen on', fallback: '0.0.0.0' },
  'data-dir': { env: 'DATA_DIR', help: 'state directory for images and runtime settings', fallback: './data' },
  'settings-file': { env: 'SETTINGS_FILE', help: 'operator settings file (JSON), read at start', fallback: undefined },
  'runtime-config': { env: 'RUNTIME_CONFIG', help: 'where POST /config updates are kept', fallback: '<data-dir>/settings.json' },
  'log-level': { env: 'LOG_LEVEL', help: 'error, warn, info or debug', fallback: 'info' },
  'shutdown-grace-ms': { env: 'SHUTDOWN_GRACE_MS', help: 'how long SIGTERM waits for images in flight', fallback: '10000' },
  'api-token-file': { env: 'API_TOKEN_FILE', help: 'file holding the API token, mode 600 (API_TOKEN wins)', fallback: '<data-dir>/api-token' },
  'headers-timeout-ms': { env: 'HEADERS_TIMEOUT_MS', help: 'time a client has to send its headers', fallback: '20000' },
  'request-timeout-ms': { env: 'REQUEST_TIMEOUT_MS', help: 'time a client has to send a whole request', fallback: '300000' },
  'keep-alive-timeout-ms': { env: 'KEEP_ALIVE_TIMEOUT_MS', help: 'how long an idle connection is kept', fallback: '5000' },
  'max-connections': { env: 'MAX_CONNECTIONS', help: 'connections at once; more are closed', fallback: '128' },
  'max-connections-per-client': { env: 'MAX_CONNECTIONS_PER_CLIENT', help: 'connections at once from one address; more get 429', fallback: '32' },
  'min-body-bytes-per-second': { env: 'MIN_BODY_BYTES_PER_SECOND', help: 'slowest a request body may arrive; slower gets 408', fallback: '1024' },
  'body-rate-window-ms': { env: 'BODY_RATE_WINDOW_MS', help: 'span the body rate is averaged over', fallback: '15000' },
  'worker-exec': { env: 'WORKER_EXEC', help: 'JSON array: the command that runs worker processes instead of node, for an emulator', fallback: undefined },
} as const;

/** The flags of {@link ConnectionLimits}: whole numbers of at least 1. */
const LIMIT_FLAGS = {
  headersTimeoutMs: 'headers-timeout-ms',
  requestTimeoutMs: 'request-timeout-ms',
  keepAliveTimeoutMs: 'keep-alive-timeout-ms',
  maxConnections: 'max-connections',
  maxConnectionsPerClient: 'max-connections-per-client',
  minBodyBytesPerSecond: 'min-body-bytes-per-second',
  bodyRateWindowMs: 'body-rate-window-ms',
} as const satisfies Record<keyof ConnectionLimits, keyof typeof FLAGS>;

type Flag = keyof typeof FLAGS;

/**
 * Reads the daemon's options: a flag wins over its environment variable, which wins over the
 * built-in default.
 * @throws Error naming every bad option, for a fail-fast start.
 */
export function parseOptions(argv: string[], env: NodeJS.ProcessEnv): DaemonOptions {
  const { values: parsed } = parseArgs({
    args: argv,
    options: {
      ...Object.fromEntries(Object.keys(FLAGS).map((flag) => [flag, { type: 'string' as const }])),
      help: { type: 'boolean', short: 'h' },
      set: { type: 'string', multiple: true },
    },
    strict: true,
  });
  const values = parsed as Record<string, string | boolean | undefined>;
  const pick = (flag: Flag): string | undefined => (values[flag] as string | undefined) ?? env[FLAGS[flag].env] ?? FLAGS[flag].fallback;
  const problems: string[] = [];
  const port = Number(pick('port'));
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push(`port must be an integer 0-65535, got ${pick('port')}`);
  const logLevel = pick('log-level')!;
  if (!isLogLevel(logLevel)) problems.push(`log-level must be error, warn, info or debug, got ${logLevel}`);
  const grace = Number(pick('shutdown-grace-ms'));
  if (!Number.isInteger(grace) || grace < 0) problems.push(`shutdown-grace-ms must be a whole number, got ${pick('shutdown-grace-ms')}`);
  const limits = {} as ConnectionLimits;
  for (const [key, flag] of Object.entries(LIMIT_FLAGS) as Array<[keyof ConnectionLimits, Flag]>) {
    limits[key] = Number(pick(flag));
    if (!Number.isInteger(limits[key]) || limits[key] < 1) problems.push(`${flag} must be a whole number of at least 1, got ${pick(flag)}`);
  }
  const workerExec = parseWorkerExec(pick('worker-exec'), problems);
  // Node refuses a server whose headers may take longer than the whole request.
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) problems.push('headers-timeout-ms must not exceed request-timeout-ms');
  if (problems.length > 0) throw new Error(`Bad options: ${problems.join('; ')}`);
  const dataDir = resolve(pick('data-dir')!);
  const runtime = values['runtime-config'] as string | undefined ?? env.RUNTIME_CONFIG;
  const settingsFile = pick('settings-file');
  const tokenFile = values['api-token-file'] as string | undefined ?? env.API_TOKEN_FILE;
  return {
    port,
    host: pick('host')!,
    dataDir,
    settingsFile: settingsFile ? resolve(settingsFile) : undefined,
    runtimeConfigFile: runtime ? resolve(runtime) : resolve(dataDir, 'settings.json'),
    logLevel: logLevel as LogLevel,
    journald: Boolean(env.JOURNAL_STREAM) && env.LOG_FORMAT !== 'plain',
    shutdownGraceMs: grace,
    apiTokenFile: tokenFile ? resolve(tokenFile) : resolve(dataDir, 'api-token'),
    limits,
    settings: (parsed.set as string[] | undefined) ?? [],
    workerExec,
    help: values.help === true,
  };
}

/** `--worker-exec`: a JSON array of at least one non-empty string, such as ["qemu-aarch64-static", "-L", "/arm", "/arm/node"]. */
function parseWorkerExec(text: string | undefined, problems: string[]): string[] | undefined {
  if (text === undefined || text === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (Array.isArray(parsed) && parsed.length > 0 && parsed.every((part) => typeof part === 'string' && part !== '')) return parsed as string[];
  problems.push(`worker-exec must be a JSON array of non-empty strings, got ${text}`);
  return undefined;
}

/** The --help text: flags, their variables and defaults, and the settings variables. */
export function helpText(): string {
  const flags = Object.entries(FLAGS).map(([flag, { env, help, fallback }]) =>
    `  --${flag.padEnd(18)} ${env.padEnd(18)} ${help}${fallback ? ` (default ${fallback})` : ''}`);
  const setting = (key: (typeof SETTING_KEYS)[number]): string => {
    const spec = SETTING_SPECS[key];
    const who = spec.secret ? ' [operator-only, secret]' : isOperatorOnly(spec) ? ' [operator-only]' : '';
    return `    ${key.toUpperCase().padEnd(28)} ${describeSpec(spec)}${who}`;
  };
  const settings = SETTING_GROUPS.flatMap((group) => [
    `  ${group}:`,
    ...SETTING_KEYS.filter((key) => SETTING_SPECS[key].group === group).map(setting),
  ]);
  return [
    'pi-image-receiver: receives images, turns them upright, resizes them and stores PNGs.',
    '',
    'Usage: node dist/server/main.js [flags]',
    '',
    'Flags and environment variables (a flag wins over its variable):',
    ...flags,
    '',
    'Settings, lowest precedence first: the built-in defaults < --settings-file < these variables',
    '< --set KEY=VALUE flags (lower-case key; lists and objects as JSON) < updates made with',
    'POST /config (kept in the runtime file). Operator-only settings cannot be set by POST /config:',
    ...settings,
  ].join('\n');
}
