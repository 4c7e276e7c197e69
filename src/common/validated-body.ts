import { HttpStatus } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync, ValidateBy, ValidationError, ValidationOptions } from 'class-validator';
import { ApiError } from './api-error';

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

const BODY_NAME = Symbol('rsb:body-name');

/**
 * Names the kind of body a DTO describes, as a validation failure says it ("The chat escalation body"):
 * the name lives with the DTO, so every path that validates it (validatedBody, the global ValidationPipe)
 * names it alike.
 */
export const BodyName =
  (name: string): ClassDecorator =>
  (target) => {
    Object.defineProperty(target, BODY_NAME, { value: name });
  };

const bodyNameOf = (cls: unknown): string =>
  (typeof cls === 'function' && (cls as unknown as Record<symbol, string>)[BODY_NAME]) || 'The request body';

/** The one validation failure: `400 validation_failed`, naming the body, each problem in `details`. */
export function validationFailed(message: string, details?: string[]): ApiError {
  return new ApiError(HttpStatus.BAD_REQUEST, 'validation_failed', message, details);
}

/** For the global ValidationPipe (DTOs in controller signatures): the same code and message as validatedBody. */
export function validationPipeError(errors: ValidationError[]): ApiError {
  const dto = (errors[0]?.target as object | undefined)?.constructor;
  return validationFailed(`${bodyNameOf(dto)} is invalid.`, problems(errors));
}

/** Every body validated in code (webhooks, the bot API, co-browse): a JSON object that fits its DTO, or a 400 listing each bad field. */
export function validatedBody<T extends object>(cls: new () => T, body: unknown): T {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw validationFailed(`${bodyNameOf(cls)} must be a JSON object.`);
  }
  const instance = plainToInstance(cls, body);
  const errors = validateSync(instance, { whitelist: true, forbidUnknownValues: false });
  if (errors.length) throw validationFailed(`${bodyNameOf(cls)} is invalid.`, problems(errors));
  return instance;
}
