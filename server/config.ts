// Configuration (SPEC 5): every setting is a flag and an environment variable
// (--max-file-size = JOBCAST_MAX_FILE_SIZE). Flags win over the environment.
// Invalid settings stop the server at start with a message naming the setting.

import { availableParallelism } from 'node:os';
import { trustProxies } from './client-address.js';

export interface Config {
  /** Interface to listen on. Default `127.0.0.1`. */
  readonly host: string;
  /** TCP port; 0 picks a free one. Default 8080. */
  readonly port: number;
  /** `sqlite:PATH`, `memory` or `redis://[user:pass@]host:port[/db]` (`rediss://` for TLS). Default `sqlite:./data/jobcast.db`. */
  readonly store: string;
  /** Where uploaded files and outputs live. Default `./data/spool`. */
  readonly spoolDir: string;
  /** WebSocket engine: `ws` or `uws`. Default `ws`. */
  readonly engine: 'ws' | 'uws';
  /** Processor used when an upload names none. Default `sha256`. */
  readonly processor: string;
  /** Folder of user processors (`*.js`, `*.mjs`). Default none. */
  readonly processorDir: string | null;
  /** Jobs that run at once. Default 1. */
  readonly concurrency: number;
  /** Worker threads in the pool. Default: number of CPUs. */
  readonly workers: number;
  /** Largest single file in bytes. Default 1GiB. */
  readonly maxFileSize: number;
  /** Most files in one upload. Default 1000. */
  readonly maxFiles: number;
  /** Largest whole upload body in bytes. Default 10GiB. */
  readonly maxUploadSize: number;
  /** Most jobs waiting in the queue before uploads get 503. Default 10000. */
  readonly maxQueuedJobs: number;
  /** Uploads whose bodies are received at once; past it `POST /jobs` gets 503 `too_many_uploads`. Default 64. */
  readonly maxConcurrentUploads: number;
  /** Open TCP connections in all (HTTP, SSE, WebSocket); past it 503 `too_many_connections`. Default 10000. */
  readonly maxConnections: number;
  /** Open TCP connections from one remote address; past it 503 `too_many_connections`. Default 256. */
  readonly maxConnectionsPerIp: number;
  /**
   * Reverse proxies whose `X-Forwarded-For` names the client (IP addresses, CIDR ranges,
   * or `loopback`, `linklocal`, `uniquelocal`). A connection from one of them counts
   * against --max-connections only, and each of its requests and WebSockets against its
   * client's address. Default none: the header is never read.
   */
  readonly trustProxy: readonly string[];
  /** Longest silence of an upload's body before it is cut off (400, connection closed). Default 30s. */
  readonly uploadIdleTimeoutMs: number;
  /**
   * Least rate of an upload's body, in bytes per second of the client's time, measured over
   * each --upload-idle-timeout; a slower upload is cut off (408 `upload_too_slow`) and frees
   * its slot. 0 turns the check off. Default 512 (4 kbit/s, below any working link).
   */
  readonly uploadMinRate: number;
  /** Least time between two progress events of one file. Default 100ms. */
  readonly progressIntervalMs: number;
  /** Events kept per job for resume. Default 1000. */
  readonly logSize: number;
  /** Longest a processor may take on one file; null for no limit. Default none. */
  readonly fileTimeoutMs: number | null;
  /** How long finished jobs are kept; null keeps them forever. Default 24h. */
  readonly retentionMs: number | null;
  /** Bearer token for uploads, listing, cancel, delete and `*`. Default none. */
  readonly token: string | null;
  /** Browser origins allowed besides same-origin. Default none. */
  readonly allowedOrigins: readonly string[];
  /**
   * Host header values answered besides the ones --host implies (`localhost`, `127.0.0.1`,
   * `[::1]` on loopback; the address itself, or any IP address on 0.0.0.0 and ::): names,
   * optionally with `:port`, or `*` for any. Others get 421 `misdirected_request`. Default none.
   */
  readonly allowedHosts: readonly string[];
  /** Largest inbound WebSocket frame in bytes. Default 4KiB. */
  readonly maxMessageSize: number;
  /** Subscriptions per WebSocket connection. Default 1000. */
  readonly maxSubscriptions: number;
  /**
   * Messages a WebSocket connection may send per second, on average; it may also send
   * --max-subscriptions of them at once on top (a client re-subscribing after a reconnect).
   * Past it the connection is closed with 1008 (`too_many_messages`). Default 100.
   */
  readonly maxMessagesPerSecond: number;
  /** WebSocket ping interval. Default 30s. */
  readonly heartbeatMs: number;
  /** Time running files get to finish at shutdown. Default 10s. */
  readonly shutdownGraceMs: number;
  /** Key prefix in Redis. Default `jobcast:`. */
  readonly redisPrefix: string;
  /**
   * How long a claim on a job lasts unless renewed (renewed every third of it). With a
   * shared store (Redis), the job of a process silent for this long is taken over by
   * another within `lease * 1.2` (the lease, then a check every fifth of it). Default 10s.
   */
  readonly leaseMs: number;
  /** pino level. Default `info`. */
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

type Kind = 'string' | 'int' | 'size' | 'duration' | 'optionalDuration' | 'list';

interface Setting {
  key: keyof Config;
  kind: Kind;
  /** Smallest accepted number, for the numeric kinds. */
  min?: number;
  choices?: readonly string[];
}

const SETTINGS: Record<string, Setting> = {
  host: { key: 'host', kind: 'string' },
  port: { key: 'port', kind: 'int', min: 0 },
  store: { key: 'store', kind: 'string' },
  'spool-dir': { key: 'spoolDir', kind: 'string' },
  engine: { key: 'engine', kind: 'string', choices: ['ws', 'uws'] },
  processor: { key: 'processor', kind: 'string' },
  'processor-dir': { key: 'processorDir', kind: 'string' },
  concurrency: { key: 'concurrency', kind: 'int', min: 1 },
  workers: { key: 'workers', kind: 'int', min: 1 },
  'max-file-size': { key: 'maxFileSize', kind: 'size', min: 1 },
  'max-files': { key: 'maxFiles', kind: 'int', min: 1 },
  'max-upload-size': { key: 'maxUploadSize', kind: 'size', min: 1 },
  'max-queued-jobs': { key: 'maxQueuedJobs', kind: 'int', min: 1 },
  'max-concurrent-uploads': { key: 'maxConcurrentUploads', kind: 'int', min: 1 },
  'max-connections': { key: 'maxConnections', kind: 'int', min: 1 },
  'max-connections-per-ip': { key: 'maxConnectionsPerIp', kind: 'int', min: 1 },
  'trust-proxy': { key: 'trustProxy', kind: 'list' },
  // At least 100 ms: below that, ordinary network jitter would cut off healthy uploads.
  'upload-idle-timeout': { key: 'uploadIdleTimeoutMs', kind: 'duration', min: 100 },
  'upload-min-rate': { key: 'uploadMinRate', kind: 'size', min: 0 },
  'progress-interval': { key: 'progressIntervalMs', kind: 'duration', min: 0 },
  'log-size': { key: 'logSize', kind: 'int', min: 1 },
  'file-timeout': { key: 'fileTimeoutMs', kind: 'optionalDuration', min: 1 },
  retention: { key: 'retentionMs', kind: 'optionalDuration', min: 1 },
  token: { key: 'token', kind: 'string' },
  'allowed-origins': { key: 'allowedOrigins', kind: 'list' },
  'allowed-hosts': { key: 'allowedHosts', kind: 'list' },
  'max-message-size': { key: 'maxMessageSize', kind: 'size', min: 16 },
  'max-subscriptions': { key: 'maxSubscriptions', kind: 'int', min: 1 },
  'max-messages-per-second': { key: 'maxMessagesPerSecond', kind: 'int', min: 1 },
  heartbeat: { key: 'heartbeatMs', kind: 'duration', min: 100 },
  'shutdown-grace': { key: 'shutdownGraceMs', kind: 'duration', min: 0 },
  'redis-prefix': { key: 'redisPrefix', kind: 'string' },
  // At least 300 ms: renewals every third of it must fit between two event-loop stalls.
  lease: { key: 'leaseMs', kind: 'duration', min: 300 },
  'log-level': { key: 'logLevel', kind: 'string', choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
};

export const DEFAULTS: Config = Object.freeze({
  host: '127.0.0.1',
  port: 8080,
  store: 'sqlite:./data/jobcast.db',
  spoolDir: './data/spool',
  engine: 'ws',
  processor: 'sha256',
  processorDir: null,
  concurrency: 1,
  workers: availableParallelism(),
  maxFileSize: 1024 ** 3,
  maxFiles: 1000,
  maxUploadSize: 10 * 1024 ** 3,
  maxQueuedJobs: 10_000,
  maxConcurrentUploads: 64,
  maxConnections: 10_000,
  maxConnectionsPerIp: 256,
  trustProxy: [],
  uploadIdleTimeoutMs: 30_000,
  uploadMinRate: 512,
  progressIntervalMs: 100,
  logSize: 1000,
  fileTimeoutMs: null,
  retentionMs: 24 * 3600 * 1000,
  token: null,
  allowedOrigins: [],
  allowedHosts: [],
  maxMessageSize: 4 * 1024,
  maxSubscriptions: 1000,
  maxMessagesPerSecond: 100,
  heartbeatMs: 30_000,
  shutdownGraceMs: 10_000,
  redisPrefix: 'jobcast:',
  leaseMs: 10_000,
  logLevel: 'info',
});

/** A setting that cannot be used; main() prints it and exits with code 2. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const SIZE_UNITS: Record<string, number> = {
  '': 1, b: 1,
  kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12,
  kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4,
};

/** `10MB` (powers of 1000), `1GiB` (powers of 1024) or plain bytes; null if unreadable. */
export function parseSize(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  if (!match) return null;
  const unit = SIZE_UNITS[match[2]!.toLowerCase()];
  if (unit === undefined) return null;
  const bytes = Math.round(Number(match[1]) * unit);
  return Number.isSafeInteger(bytes) ? bytes : null;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `500ms`, `30s`, `5m`, `24h`, `7d`, or plain milliseconds; null if unreadable. */
export function parseDuration(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/i.exec(text.trim());
  if (!match) return null;
  const ms = Math.round(Number(match[1]) * DURATION_UNITS[(match[2] ?? 'ms').toLowerCase()]!);
  return Number.isSafeInteger(ms) ? ms : null;
}

export interface ParsedCommand {
  /** `serve` (HTTP, WebSocket and processing) or `worker` (processing only, SPEC 6). */
  command: 'serve' | 'worker';
  config: Config;
}

/**
 * Reads flags (`--name value` or `--name=value`) over environment variables over defaults.
 * Throws ConfigError naming the setting when one is invalid.
 */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ParsedCommand {
  const raw = new Map<string, string>();
  for (const [name] of Object.entries(SETTINGS)) {
    const value = env[`JOBCAST_${name.toUpperCase().replaceAll('-', '_')}`];
    if (value !== undefined && value !== '') raw.set(name, value);
  }
  let command: 'serve' | 'worker' = 'serve';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (i === 0 && (arg === 'worker' || arg === 'serve')) {
      command = arg;
      continue;
    }
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument '${arg}': settings are written --name value`);
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    if (!(name in SETTINGS)) throw new ConfigError(`unknown setting --${name}; see the README for the list`);
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new ConfigError(`--${name} needs a value`);
    raw.set(name, value);
  }
  const config: Record<string, unknown> = { ...DEFAULTS };
  for (const [name, text] of raw) config[SETTINGS[name]!.key] = parseSetting(name, SETTINGS[name]!, text);
  return { command, config: validate(config as unknown as Config) };
}

function parseSetting(name: string, setting: Setting, text: string): unknown {
  const fail = (what: string): never => {
    throw new ConfigError(`--${name} must be ${what}, got '${text}'`);
  };
  const atLeast = (n: number, what: string): number => {
    if (setting.min !== undefined && n < setting.min) fail(`${what} of at least ${setting.min}`);
    return n;
  };
  switch (setting.kind) {
    case 'string':
      if (setting.choices && !setting.choices.includes(text)) fail(`one of ${setting.choices.join(', ')}`);
      return text;
    case 'list':
      return Object.freeze(text.split(',').map((s) => s.trim()).filter(Boolean));
    case 'int': {
      if (!/^\d+$/.test(text.trim())) fail('a whole number');
      return atLeast(Number(text), 'a whole number');
    }
    case 'size': {
      const bytes = parseSize(text);
      return bytes === null ? fail('a size like 10MB, 1GiB or 4096') : atLeast(bytes, 'a size');
    }
    case 'duration':
    case 'optionalDuration': {
      if (setting.kind === 'optionalDuration' && ['none', 'off', '0'].includes(text.trim())) return null;
      const ms = parseDuration(text);
      return ms === null ? fail('a duration like 500ms, 30s or 24h') : atLeast(ms, 'a duration');
    }
  }
}

/** Checks the rules that span settings, then freezes the result. */
function validate(config: Config): Config {
  if (config.port > 65535) throw new ConfigError(`--port must be at most 65535, got '${config.port}'`);
  if (config.maxFileSize > config.maxUploadSize) {
    throw new ConfigError(`--max-file-size (${config.maxFileSize}) must not exceed --max-upload-size (${config.maxUploadSize})`);
  }
  if (!/^(sqlite:.+|memory|rediss?:\/\/.+)$/.test(config.store)) {
    throw new ConfigError(`--store must be sqlite:PATH, memory or redis://host:port, got '${config.store}'`);
  }
  if (config.redisPrefix === '' || /[\s{}]/.test(config.redisPrefix)) {
    throw new ConfigError(`--redis-prefix must be a non-empty key prefix without blanks or braces, got '${config.redisPrefix}'`);
  }
  if (config.token !== null && config.token.length < 8) throw new ConfigError('--token must be at least 8 characters long');
  for (const origin of config.allowedOrigins) {
    if (!/^https?:\/\/[^/]+$/.test(origin)) {
      throw new ConfigError(`--allowed-origins must list origins like https://example.com, got '${origin}'`);
    }
  }
  for (const host of config.allowedHosts) {
    if (!HOST_ENTRY.test(host)) {
      throw new ConfigError(`--allowed-hosts must list host names like jobs.example.com or jobs.example.com:8080 (or *), got '${host}'`);
    }
  }
  try {
    trustProxies(config.trustProxy);
  } catch (err) {
    throw new ConfigError(`--trust-proxy must list proxy addresses like 127.0.0.1, 10.0.0.0/8 or loopback: ${(err as Error).message}`);
  }
  return Object.freeze(config);
}

/** `*`, or a name, an IPv4 address or a bracketed IPv6 address, with an optional port. */
const HOST_ENTRY = /^(\*|(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?)(:\d{1,5})?)$/;
