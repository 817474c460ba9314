import { createServer, type Server, type ServerOptions } from 'node:http';
import { availableParallelism } from 'node:os';
import { loadApiToken, type ApiToken } from './api-token';
import { createApp } from './app';
import type { AppDeps } from './app-deps';
import { capConnectionsPerClient } from './http/cap-connections-per-client';
import { answerClientErrors } from './http/client-errors';
import { boundLine, createLogger, redact, stdoutLines, type Logger } from './log';
import { LogRing } from './log-ring';
import { SystemdNotifier } from './monitoring/systemd-notify';
import { helpText, parseOptions, type ConnectionLimits, type DaemonOptions } from './options';
import type { Consumers } from './consumers/consumers';
import type { ProcessingQueue } from './memory/processing-queue';
import { openServices } from './services';
import { readSettingsFile, settingsFromEnv, settingsFromFlags } from './settings';

/**
 * The daemon's entry point: the only file that reads process.env, listens and handles signals.
 */
async function main(): Promise<void> {
  // sharp runs each image on a thread of libuv's pool (4 by default), as do file writes and
  // fsync: with one image per core on a 4-core Pi, uploads would wait for an image to finish
  // before their bytes reach the disk. Two more threads than cores keep the file work moving.
  // Set before the pool's first use, which creates it; an operator's value is kept.
  process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, availableParallelism() + 2));
  let options: DaemonOptions;
  try {
    options = parseOptions(process.argv.slice(2), process.env);
  } catch (err) {
    failStart(err);
  }
  if (options.help) {
    process.stdout.write(`${helpText()}\n`);
    return;
  }
  const logs = new LogRing();
  const log = createLogger({ level: options.logLevel, journald: options.journald, tap: (entry) => logs.push(entry) });
  // Lines of the last turn are pending until its end: written by whatever ends the process.
  process.on('exit', () => stdoutLines.flush());
  const notifier = new SystemdNotifier({ env: process.env, pid: process.pid, log });

  let deps: AppDeps;
  let token: ApiToken | undefined;
  try {
    token = await loadApiToken(process.env.API_TOKEN, options.apiTokenFile);
    deps = await openServices({
      dataDir: options.dataDir,
      runtimeConfigFile: options.runtimeConfigFile,
      settingsLayers: [
        options.settingsFile ? await readSettingsFile(options.settingsFile) : {},
        settingsFromEnv(process.env),
        settingsFromFlags(options.settings),
      ],
      env: process.env,
      workerExec: options.workerExec,
      log,
      logs,
      apiToken: token?.value,
    });
  } catch (err) {
    failStart(err);
  }
  const { store, flow, consumers } = deps;
  const { limits } = options;
  const app = createApp(deps, { bodyRate: { minBytesPerSecond: limits.minBodyBytesPerSecond, windowMs: limits.bodyRateWindowMs } });
  const server = createServer(serverOptions(limits), app.callback());
  server.maxConnections = limits.maxConnections;
  capConnectionsPerClient(server, { maxPerClient: limits.maxConnectionsPerClient, log });
  answerClientErrors(server);

  server.on('error', (err) => failStart(err));
  server.listen(options.port, options.host, () => {
    const { count } = store.totals();
    const where = `http://${options.host}:${listeningPort(server)}`;
    log.info(`listening on ${where} data=${options.dataDir} images=${count}`);
    void notifier.ready(`listening on ${where}, ${count} images`);
    // Says where the token came from, never what it is.
    log.info(token
      ? `access: changes need the API token from ${token.origin}`
      : 'access: open, no API token set; answering only requests addressed to an IP address, localhost, a .local name, this machine\'s names or allowed_hosts');
  });

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    // Stopping the monitor ends the live streams, which would otherwise hold the server open.
    deps.monitor.stop();
    deps.similarity.stop();
    void deps.features.close();
    void notifier.stopping();
    // Says offline at once and takes no more images from the broker; the consumer resumes at the next start.
    const mqttStopped = deps.mqtt.stop();
    void shutdown(server, flow.queue, consumers, options.shutdownGraceMs, log, signal)
      // The image worker finishes the images in flight first: it ignores the stop signal itself.
      // So does the labels worker, for the image its consumer is at: ended once consumers stopped.
      .then(() => Promise.all([deps.imageWorker.close(), deps.labels.close(), deps.store.close()]))
      .then(() => mqttStopped)
      // Deliver STOPPING=1 before exiting, but never wait long for it.
      .then(() => Promise.race([notifier.close(), new Promise((resolve) => setTimeout(resolve, 2000))]))
      .then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/**
 * Stops accepting, lets requests and images in flight finish within the grace period, then
 * closes whatever is left; durable consumers at work get what is left of the grace period (at
 * least a second) to finish, and resume from their cursors at the next start.
 */
async function shutdown(server: Server, queue: ProcessingQueue, consumers: Consumers, graceMs: number, log: Logger, signal: string): Promise<void> {
  const deadline = Date.now() + graceMs;
  log.info(`${signal}: stopping; ${queue.inFlight + queue.queued} images in flight`);
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // A keep-alive connection that finishes its request goes idle; close it then, not after keepAliveTimeout.
  const sweeper = setInterval(() => server.closeIdleConnections(), 100);
  server.closeIdleConnections();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), graceMs);
  });
  const outcome = await Promise.race([Promise.all([closed, queue.idle()]), expired]);
  clearTimeout(timer);
  clearInterval(sweeper);
  if (outcome === 'expired') {
    log.warn(`grace period of ${graceMs} ms over; closing ${queue.inFlight + queue.queued} unfinished uploads`);
    server.closeAllConnections();
  }
  await consumers.stop(Math.max(1000, deadline - Date.now()));
  if (outcome !== 'expired') log.info('stopped cleanly');
}

/** The Node server's timeouts, from the options; see {@link ConnectionLimits}. */
function serverOptions(limits: ConnectionLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Node checks the two timeouts above only this often (30 s by default), so check well within them.
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
  };
}

function listeningPort(server: Server): number {
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

/**
 * Start-up failures print one line naming what is wrong, so journalctl shows why (at priority
 * error, `<3>`, under journald).
 */
function failStart(err: unknown): never {
  const fields = (err as { fields?: Record<string, string> }).fields;
  const detail = fields ? Object.values(fields).join('; ') : (err as Error).message;
  const priority = process.env.JOURNAL_STREAM ? '<3>' : '';
  // Masked and bounded as every log line is: a bad URL setting is quoted in the reason.
  process.stderr.write(`${priority}pi-image-receiver cannot start: ${boundLine(redact(detail))}\n`);
  process.exit(1);
}

void main();
