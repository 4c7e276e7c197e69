import { HttpStatus } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync, ValidateBy, ValidationError, ValidationOptions } from 'class-validator';
import { ApiError } from '../common/api-error';

function problems(errors: ValidationError[], path = ''): string[] {
  return errors.flatMap((e) => {
    const here = path ? `${path}.${e.property}` : e.property;
    return [
      ...Object.values(e.constraints ?? {}).map((m) => (m.includes(e.property) ? m : `${here}: ${m}`)),
      ...problems(e.children ?? [], here),
    ];
  });
}

/**
 * A nested object the body must carry: @ValidateNested alone passes when it is missing (and the use case
 * then reads a property of undefined: a 500). Unlike @IsDefined it leaves the OpenAPI schema as it was
 * (the property is listed as required already).
 */
export const IsPresent = (message: string, options?: ValidationOptions): PropertyDecorator =>
  ValidateBy(
    { name: 'isPresent', validator: { validate: (value) => value !== undefined && value !== null, defaultMessage: () => message } },
    options,
  );

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

/**
 * Custom field values as the routing rules and templates see them: text, with empty values left out.
 * Built with defined properties, so that no field name (the body parser refuses `__proto__` anyway) can
 * reach an object's prototype; a nested value is its JSON, not "[object Object]".
 */
export function fieldStrings(fields: Record<string, unknown> | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(fields ?? {})
      .filter(([, value]) => value !== null && value !== undefined)
      .map(([name, value]) => [name, typeof value === 'object' ? JSON.stringify(value) : String(value)]),
  );
}
