import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength } from 'class-validator';
import { EnvVar } from './env-var.decorator';
import { ToInt, ToList } from './transforms';

export const ROLES = ['api', 'worker', 'all'] as const;
export type Role = (typeof ROLES)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Every environment variable rs-bridge reads. The property name is the variable's name (a contract:
 * never rename one). Each validator's message says what is expected; the loader adds what was found.
 */
export class Environment {
  @EnvVar({ description: 'HTTP port the API listens on.' })
  @ToInt()
  @IsInt({ message: 'an integer from 1 to 65535' })
  @Min(1, { message: 'an integer from 1 to 65535' })
  @Max(65535, { message: 'an integer from 1 to 65535' })
  PORT = 3000;

  @EnvVar({ description: 'Address the HTTP server binds to (0.0.0.0 in containers, 127.0.0.1 to stay local).' })
  @IsString({ message: 'an IP address or hostname' })
  HOST = '0.0.0.0';

  @EnvVar({
    description: 'What this process runs: api (HTTP only), worker (queue processors and schedulers only) or all.',
  })
  @IsIn(ROLES, { message: `one of ${ROLES.join(', ')}` })
  RSB_ROLE: Role = 'all';

  @EnvVar({
    description: 'Redis connection URL (redis:// or rediss://, may carry a password). Use AOF persistence and maxmemory-policy noeviction.',
    sensitive: true,
  })
  @Matches(/^rediss?:\/\/\S+$/, { message: 'a redis:// or rediss:// URL' })
  REDIS_URL = 'redis://127.0.0.1:6379';

  @EnvVar({
    description: 'Prefix of every Redis key and BullMQ queue of this deployment; use {rsb} style hash tags on Redis Cluster.',
  })
  @Matches(/^[A-Za-z0-9_.:{}-]{1,64}$/, { message: '1 to 64 letters, digits or _ . : { } -' })
  RSB_REDIS_PREFIX = 'rsb';

  @EnvVar({ description: `Log level: ${LOG_LEVELS.join(', ')}.` })
  @IsIn(LOG_LEVELS, { message: `one of ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL: LogLevel = 'info';

  @EnvVar({
    description: 'Comma-separated bearer tokens accepted on /api/v1/* (at least 16 characters each); empty rejects every API call.',
    sensitive: true,
    example: 'change-me-to-a-long-random-token',
  })
  @ToList()
  @IsString({ each: true, message: 'tokens of at least 16 characters without spaces' })
  @MinLength(16, { each: true, message: 'tokens of at least 16 characters without spaces' })
  @Matches(/^\S+$/, { each: true, message: 'tokens of at least 16 characters without spaces' })
  RSB_API_TOKENS: string[] = [];

  @EnvVar({ description: 'Path to the YAML rules file (routing, field mapping, templates). Optional.', example: '' })
  @IsOptional()
  @IsString({ message: 'a file path' })
  RSB_RULES_FILE?: string;

  @EnvVar({
    description: 'On SIGTERM, how long running jobs may take to finish before the worker stops anyway (they are then retried).',
  })
  @ToInt()
  @IsInt({ message: 'an integer from 0 to 3600000 (milliseconds)' })
  @Min(0, { message: 'an integer from 0 to 3600000 (milliseconds)' })
  @Max(3_600_000, { message: 'an integer from 0 to 3600000 (milliseconds)' })
  RSB_SHUTDOWN_TIMEOUT_MS = 30_000;
}
