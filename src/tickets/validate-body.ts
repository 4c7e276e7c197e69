import { HttpStatus } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { ApiError } from '../http/api-error';

function problems(errors: ValidationError[], path = ''): string[] {
  return errors.flatMap((e) => {
    const here = path ? `${path}.${e.property}` : e.property;
    return [
      ...Object.values(e.constraints ?? {}).map((m) => (m.includes(e.property) ? m : `${here}: ${m}`)),
      ...problems(e.children ?? [], here),
    ];
  });
}

/** Every inbound webhook body: a JSON object that fits its DTO, or a 400 listing each bad field. */
export function validatedBody<T extends object>(cls: new () => T, body: unknown): T {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ApiError(HttpStatus.BAD_REQUEST, 'validation_failed', 'The webhook body must be a JSON object.');
  }
  const instance = plainToInstance(cls, body);
  const errors = validateSync(instance, { whitelist: true, forbidUnknownValues: false });
  if (errors.length) throw new ApiError(HttpStatus.BAD_REQUEST, 'validation_failed', 'The webhook body is invalid.', problems(errors));
  return instance;
}

/** Custom field values as the routing rules and templates see them: text, with empty values left out. */
export function fieldStrings(fields: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(fields ?? {})) if (value !== null && value !== undefined) out[name] = String(value);
  return out;
}
