import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, DEFAULTS, loadConfig, parseDuration, parseSize } from '../server/config.js';
import { REPO_ROOT } from './helpers/server.js';

test('sizes: powers of 1000, powers of 1024, plain bytes', () => {
  const cases: Array<[string, number | null]> = [
    ['10MB', 10_000_000], ['1GiB', 1024 ** 3], ['4096', 4096], ['4KiB', 4096], ['1.5kb', 1500], ['ten', null], ['5XB', null], ['-1', null],
  ];
  for (const [text, expected] of cases) assert.equal(parseSize(text), expected, text);
});

test('durations: ms, s, m, h, d', () => {
  const cases: Array<[string, number | null]> = [['500ms', 500], ['30s', 30_000], ['24h', 86_400_000], ['250', 250], ['1d', 86_400_000], ['soon', null]];
  for (const [text, expected] of cases) assert.equal(parseDuration(text), expected, text);
});

test('defaults match SPEC 5', () => {
  const { command, config } = loadConfig([], {});
  assert.equal(command, 'serve');
  assert.equal(config.port, 8080);
  assert.equal(config.store, 'sqlite:./data/jobcast.db');
  assert.equal(config.maxFileSize, 1024 ** 3);
  assert.equal(config.maxUploadSize, 10 * 1024 ** 3);
  assert.equal(config.retentionMs, 86_400_000);
  assert.equal(config.fileTimeoutMs, null);
  assert.ok(Object.isFrozen(config));
});

test('flags win over environment variables, which win over defaults', () => {
  const env = { JOBCAST_MAX_FILE_SIZE: '10MB', JOBCAST_CONCURRENCY: '3' };
  const { config } = loadConfig(['--concurrency', '2', '--file-timeout=30s'], env);
  assert.equal(config.maxFileSize, 10_000_000);
  assert.equal(config.concurrency, 2);
  assert.equal(config.fileTimeoutMs, 30_000);
  assert.equal(loadConfig(['worker'], {}).command, 'worker');
  const redis = loadConfig(['worker', '--store', 'redis://u:p@10.0.0.5:6380/2', '--lease', '3s'], { JOBCAST_REDIS_PREFIX: 'jc:' }).config;
  assert.deepEqual([redis.store, redis.leaseMs, redis.redisPrefix, DEFAULTS.leaseMs], ['redis://u:p@10.0.0.5:6380/2', 3000, 'jc:', 10_000]);
});

test('invalid settings name the setting', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--max-file-size', 'ten'], /--max-file-size must be a size/],
    [['--concurrency', '0'], /--concurrency must be a whole number of at least 1/],
    [['--engine', 'fast'], /--engine must be one of ws, uws/],
    [['--port', '70000'], /--port must be at most 65535/],
    [['--store', 'mysql://x'], /--store must be/],
    [['--max-file-size', '2GiB', '--max-upload-size', '1GiB'], /--max-file-size .* must not exceed --max-upload-size/],
    [['--nope', '1'], /unknown setting --nope/],
    [['--heartbeat'], /--heartbeat needs a value/],
    [['--allowed-origins', 'example.com'], /--allowed-origins must list origins/],
    [['--lease', '100ms'], /--lease must be a duration of at least 300/],
    [['--redis-prefix', 'a b'], /--redis-prefix must be a non-empty key prefix/],
  ];
  for (const [argv, message] of cases) assert.throws(() => loadConfig(argv, {}), (err: Error) => err instanceof ConfigError && message.test(err.message), argv.join(' '));
  assert.throws(() => loadConfig([], { JOBCAST_LOG_SIZE: 'many' }), /--log-size must be a whole number/);
});

test('the server exits with code 2 and names the setting when one is invalid', () => {
  const run = spawnSync(process.execPath, [join(REPO_ROOT, 'dist/server/main.js'), '--max-file-size', 'ten'], { encoding: 'utf8' });
  assert.equal(run.status, 2);
  assert.match(run.stderr, /--max-file-size must be a size like 10MB/);
  assert.equal(DEFAULTS.engine, 'ws');
});

test('--max-messages-per-second: 100 by default, a whole number of at least 1', () => {
  assert.equal(DEFAULTS.maxMessagesPerSecond, 100);
  assert.equal(loadConfig(['--max-messages-per-second', '500'], {}).config.maxMessagesPerSecond, 500);
  assert.equal(loadConfig([], { JOBCAST_MAX_MESSAGES_PER_SECOND: '20' }).config.maxMessagesPerSecond, 20);
  assert.throws(() => loadConfig(['--max-messages-per-second', '0'], {}), /--max-messages-per-second must be a whole number of at least 1/);
});
