import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { VERSION } from '../version';

/**
 * rs-bridge's Prometheus metrics, one registry per process. Labels are closed sets (route templates,
 * system names, operations, status codes, outcomes): never a ticket's contents, an id or a secret.
 */
export const registry = new Registry();

// Process and Node.js metrics under their usual names (process_*, nodejs_*), so stock dashboards work.
collectDefaultMetrics({ register: registry });

export const buildInfo = new Gauge({
  name: 'rsb_build_info',
  help: 'Always 1; the labels say which rs-bridge and which Node.js this process runs.',
  labelNames: ['version', 'node'] as const,
  registers: [registry],
});
buildInfo.set({ version: VERSION, node: process.version }, 1);

export const httpRequests = new Counter({
  name: 'rsb_http_requests_total',
  help: 'HTTP requests answered, by method, route template and status.',
  labelNames: ['method', 'route', 'status'] as const,
  registers: [registry],
});

export const httpDuration = new Histogram({
  name: 'rsb_http_request_duration_seconds',
  help: 'Time to answer an HTTP request, by method and route template.',
  labelNames: ['method', 'route'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});

export const webhookVerifications = new Counter({
  name: 'rsb_webhook_verifications_total',
  help: 'Inbound webhooks by system and result (accepted, or the error code they were refused with).',
  labelNames: ['system', 'result'] as const,
  registers: [registry],
});

export const jobs = new Counter({
  name: 'rsb_jobs_total',
  help: 'Jobs finished, by queue and outcome (completed, failed: retried later, or exhausted).',
  labelNames: ['queue', 'outcome'] as const,
  registers: [registry],
});

export const jobDuration = new Histogram({
  name: 'rsb_job_duration_seconds',
  help: 'Time a job ran, by queue and outcome.',
  labelNames: ['queue', 'outcome'] as const,
  buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
  registers: [registry],
});

export const applianceRequests = new Counter({
  name: 'rsb_appliance_requests_total',
  help: 'Requests to the BeyondTrust appliance, by operation (command action or report) and HTTP status (0: no answer).',
  labelNames: ['operation', 'status'] as const,
  registers: [registry],
});

export const rateLimiterWait = new Histogram({
  name: 'rsb_rate_limiter_wait_seconds',
  help: 'Time a request to the appliance waited at the shared rate limiter.',
  buckets: [0, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 60],
  registers: [registry],
});

export const tokenRefreshes = new Counter({
  name: 'rsb_appliance_token_requests_total',
  help: 'OAuth tokens requested from the appliance (shared by every pod; about one an hour is normal).',
  registers: [registry],
});

export const ticketRequests = new Counter({
  name: 'rsb_ticket_system_requests_total',
  help: "Requests to ticket systems (and generic systems' callbacks), by system and HTTP status (0: no answer).",
  labelNames: ['system', 'status'] as const,
  registers: [registry],
});

export const botCallbacks = new Counter({
  name: 'rsb_bot_callbacks_total',
  help: 'Signed callbacks to chat bots, by HTTP status (0: no answer).',
  labelNames: ['status'] as const,
  registers: [registry],
});

export const recordingBytes = new Counter({
  name: 'rsb_recording_bytes_total',
  help: 'Recording bytes streamed from the appliance into ticket systems, by system.',
  labelNames: ['system'] as const,
  registers: [registry],
});

/**
 * Filled at scrape time by the metrics service. Queues and the poll cursor live in Redis, so every pod
 * reports the same deployment-wide value: aggregate them with max(), never sum() (docs/operations.md).
 */
export const queueJobs = new Gauge({
  name: 'rsb_queue_jobs',
  help: 'Jobs in each queue by state, read from Redis: the same on every pod, aggregate with max() not sum().',
  labelNames: ['queue', 'state'] as const,
  registers: [registry],
});

export const pollCursorLag = new Gauge({
  name: 'rsb_poll_cursor_lag_seconds',
  help: 'Seconds between now and the session poll cursor (grows when polling stalls), read from Redis: aggregate with max().',
  registers: [registry],
});

export const redisUp = new Gauge({
  name: 'rsb_redis_up',
  help: 'Whether this pod read the queue depths from Redis at this scrape (1) or Redis did not answer in time (0).',
  registers: [registry],
});
