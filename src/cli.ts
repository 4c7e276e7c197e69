#!/usr/bin/env node
import 'reflect-metadata';
import { parseArgs } from 'node:util';

/**
 * `rs-bridge` (node dist/cli.js): the admin API from a shell, e.g. `kubectl exec deploy/rs-bridge-api --
 * node dist/cli.js failed`. It talks to RSB_API_URL (default: this pod, http://127.0.0.1:$PORT) with
 * RSB_API_TOKEN (default: the first of RSB_API_TOKENS, which the pod has); `doctor` runs the checks here.
 */

export const EXIT = { ok: 0, failure: 1, usage: 2, unreachable: 3 } as const;

const USAGE = `Usage: rs-bridge <command> [options]

Commands:
  doctor                       Check Redis, the appliance, ticket systems and Upscope with this configuration
  links <system> <ticket>      A ticket's session keys and Jump links (system: zendesk, servicenow, generic)
  failed [queue]               Failed jobs with their reasons (all queues, or one)
  retry <queue> <jobId|--all>  Put a failed job (or all of a queue's) back in the queue
  resync <lsid>                Pull a session again and write what its ticket is missing

Options:
  --json       Print the answer as JSON
  --limit N    failed: at most N jobs a queue (default 50)
  -h, --help   This help

Environment:
  RSB_API_URL     The rs-bridge API (default http://127.0.0.1:$PORT, PORT default 3000)
  RSB_API_TOKEN   Bearer token (default: the first of RSB_API_TOKENS)

Exit codes: 0 ok, 1 a failure found (failed jobs, a failing check, an error answer),
            2 usage error, 3 the API cannot be reached.
`;

class Exit extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

interface Io {
  env: NodeJS.ProcessEnv;
  out: (text: string) => void;
  err: (text: string) => void;
}

/** One API call; an error answer exits 1 with its message, no answer exits 3. */
async function call<T>(io: Io, method: 'GET' | 'POST', path: string): Promise<T> {
  const base = (io.env.RSB_API_URL || `http://127.0.0.1:${io.env.PORT || '3000'}`).replace(/\/+$/, '');
  const token = io.env.RSB_API_TOKEN || io.env.RSB_API_TOKENS?.split(',')[0]?.trim();
  if (!token) throw new Exit(EXIT.usage, 'Set RSB_API_TOKEN (or RSB_API_TOKENS) to a bearer token of the API');
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(15_000) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; errors?: { code?: string }[] } }).cause;
    const why = cause?.code ?? cause?.errors?.[0]?.code ?? (error as Error).name;
    throw new Exit(EXIT.unreachable, `Cannot reach rs-bridge at ${base} (${why}); set RSB_API_URL`);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Exit(EXIT.failure, `${method} ${path}: ${res.status}, not JSON: ${text.slice(0, 200)}`);
  }
  if (!res.ok) {
    const error = (body as { error?: { code?: string; message?: string } }).error;
    throw new Exit(EXIT.failure, `${res.status} ${error?.code ?? ''}: ${error?.message ?? text.slice(0, 200)}`);
  }
  return body as T;
}

interface FailedJob {
  id: string;
  name: string;
  failedReason?: string;
  attemptsMade: number;
  failedAt?: string;
}
interface Link {
  externalKey: string;
  shortKey: string;
  createdAt: string;
  ticketNumber: string;
  expiresAt?: string;
}

const seg = encodeURIComponent;

export async function cli(argv: string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, all: { type: 'boolean' }, limit: { type: 'string' } },
    });
  } catch (error) {
    io.err(`${(error as Error).message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  const [command, ...args] = positionals;
  if (values.help || !command) {
    (values.help ? io.out : io.err)(USAGE);
    return values.help ? EXIT.ok : EXIT.usage;
  }
  const json = values.json === true;
  const print = (value: unknown, human: () => string) => io.out(json ? `${JSON.stringify(value, null, 2)}\n` : human());
  const usage = (message: string): never => {
    throw new Exit(EXIT.usage, `${message}\n\n${USAGE}`);
  };
  try {
    switch (command) {
      case 'doctor': {
        if (args.length) usage('doctor takes no arguments');
        const { runDoctor } = await import('./doctor/run-doctor');
        return await runDoctor(io.out, json);
      }
      case 'links': {
        if (args.length !== 2) usage('links needs <system> <ticket>');
        const body = await call<{ links: Link[] }>(io, 'GET', `/api/v1/admin/links/tickets/${seg(args[0])}/${seg(args[1])}`);
        print(body, () =>
          body.links.length
            ? body.links
                .map((l) => `${l.createdAt}  ${l.externalKey}  key ${l.shortKey}${l.expiresAt ? `  expires ${l.expiresAt}` : ''}\n`)
                .join('')
            : `No sessions linked to ${args[0]} ticket ${args[1]}.\n`,
        );
        return EXIT.ok;
      }
      case 'failed': {
        if (args.length > 1) usage('failed takes at most one queue');
        const limit = values.limit ?? '50';
        if (!/^\d+$/.test(limit)) usage('--limit must be a number');
        const names = args.length
          ? args
          : Object.entries((await call<{ queues: Record<string, { failed: number }> }>(io, 'GET', '/api/v1/admin/queues')).queues)
              .filter(([, counts]) => counts.failed > 0)
              .map(([name]) => name);
        const queues: Record<string, FailedJob[]> = {};
        for (const name of names)
          queues[name] = (await call<{ jobs: FailedJob[] }>(io, 'GET', `/api/v1/admin/queues/${seg(name)}/failed?limit=${limit}`)).jobs;
        const total = Object.values(queues).reduce((n, jobs) => n + jobs.length, 0);
        print({ queues }, () =>
          total === 0
            ? `No failed jobs${args.length ? ` in ${args[0]}` : ''}.\n`
            : Object.entries(queues)
                .flatMap(([queue, jobs]) =>
                  jobs.map(
                    (j) => `${queue}  ${j.id}  ${j.name}  ${j.attemptsMade} attempt(s)  ${j.failedAt ?? ''}\n    ${j.failedReason ?? ''}\n`,
                  ),
                )
                .join('') + `\n${total} failed job(s). Retry: rs-bridge retry <queue> <jobId|--all>\n`,
        );
        return total === 0 ? EXIT.ok : EXIT.failure;
      }
      case 'retry': {
        const [queue, jobId] = args;
        if (!queue || (values.all ? args.length !== 1 : args.length !== 2)) usage('retry needs <queue> and a <jobId> or --all');
        const path = values.all
          ? `/api/v1/admin/queues/${seg(queue)}/failed/retry`
          : `/api/v1/admin/queues/${seg(queue)}/failed/${seg(jobId)}/retry`;
        const body = await call<{ retried: number | string }>(io, 'POST', path);
        print(body, () => (values.all ? `${body.retried} failed job(s) of ${queue} retried.\n` : `Job ${jobId} of ${queue} retried.\n`));
        return EXIT.ok;
      }
      case 'resync': {
        if (args.length !== 1) usage('resync needs <lsid>');
        const body = await call<{ jobId: string }>(io, 'POST', `/api/v1/sessions/${seg(args[0])}/resync`);
        print(body, () => `Session ${args[0]} queued for resync (job ${body.jobId}).\n`);
        return EXIT.ok;
      }
      default:
        return usage(`Unknown command ${command}`);
    }
  } catch (error) {
    if (!(error instanceof Exit)) throw error;
    io.err(json && error.code !== EXIT.usage ? `${JSON.stringify({ error: error.message })}\n` : `${error.message}\n`);
    return error.code;
  }
}

if (require.main === module) {
  cli(process.argv.slice(2), { env: process.env, out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) }).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`rs-bridge: ${String(error)}\n`);
      process.exit(EXIT.failure);
    },
  );
}
