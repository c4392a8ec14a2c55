#!/usr/bin/env node
// `jobcast`: the server (`jobcast [serve|worker] [--flags]`, as `npm start --`) and its
// command-line client (`jobcast upload FILES...`, `jobcast watch JOB_ID`). This is the
// package's bin, so `npx jobcast serve` runs the server of an installed package.

import { parseArgs } from 'node:util';
import { TerminalView } from './terminal-bars.js';

const USAGE = `usage:
  jobcast [serve] [--flags]                      run the server (see the README for flags)
  jobcast worker [--flags]                       process jobs of a shared store only (needs --store redis://)
  jobcast upload FILES... [--server URL] [--processor NAME] [--label TEXT] [--token TOKEN]
  jobcast watch JOB_ID [--server URL] [--token TOKEN]
The server URL defaults to $JOBCAST_SERVER or http://127.0.0.1:8080.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== 'upload' && command !== 'watch') {
    if (command === '--help' || command === 'help') return void console.log(USAGE), 0;
    await import('../server/main.js');
    return -1;
  }
  const { values, positionals } = parseArgs({
    args: command === 'watch' ? jobIdsLast(rest) : rest,
    allowPositionals: true,
    options: { server: { type: 'string' }, processor: { type: 'string' }, label: { type: 'string' }, token: { type: 'string' } },
  });
  const server = values.server ?? process.env.JOBCAST_SERVER ?? 'http://127.0.0.1:8080';
  const token = values.token ?? process.env.JOBCAST_TOKEN;
  if (command === 'upload') {
    if (positionals.length === 0) throw new UsageError('upload needs at least one file');
    const { uploadCommand } = await import('./upload-command.js');
    return uploadCommand({ server, files: positionals, processor: values.processor, label: values.label, token });
  }
  if (positionals.length !== 1) throw new UsageError('watch needs one job id');
  const { followJob } = await import('./follow-job.js');
  const final = await followJob(server, positionals[0]!, token, new TerminalView());
  return final.status === 'completed' ? 0 : 1;
}

class UsageError extends Error {}

/** A job id: 21 characters of nanoid's alphabet, '-' and '_' included. */
const JOB_ID = /^[A-Za-z0-9_-]{21}$/;
/** The options of `watch` that take a value: the word after them is that value. */
const TAKES_VALUE = new Set(['--server', '--token']);

/**
 * One job id in 64 begins with '-', which parseArgs would read as options: such a word,
 * where an id may stand, moves behind '--' (where the user may also put it).
 */
function jobIdsLast(args: string[]): string[] {
  const others: string[] = [];
  const ids: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      ids.push(...args.slice(i + 1));
      break;
    }
    if (TAKES_VALUE.has(arg) && i + 1 < args.length) others.push(arg, args[++i]!);
    else if (arg.startsWith('-') && JOB_ID.test(arg)) ids.push(arg);
    else others.push(arg);
  }
  return ids.length === 0 ? others : [...others, '--', ...ids];
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    console.error(`jobcast: ${err instanceof Error ? err.message : String(err)}`);
    if (err instanceof UsageError) console.error(USAGE);
    process.exit(2);
  },
);
