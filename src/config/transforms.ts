import { Transform } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';

/** Whole-number strings become numbers; anything else stays a string so the error can show it. */
export const ToInt = (): PropertyDecorator =>
  Transform(({ value }) => (typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value));

export const ToList = (): PropertyDecorator =>
  Transform(({ value }) =>
    typeof value === 'string'
      ? value
          .split(',')
          .map((item) => item.trim())
          .filter((item) => item.length > 0)
      : value,
  );

export const ToBool = (): PropertyDecorator =>
  Transform(({ value }) => {
    if (typeof value !== 'string') return value;
    const v = value.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off'].includes(v)) return false;
    return value;
  });

/** A whole number within bounds, read from its string; one message says what is expected. */
export function IntVar(min: number, max: number, unit?: string): PropertyDecorator {
  const message = `an integer from ${min} to ${max}${unit ? ` (${unit})` : ''}`;
  const decorators = [ToInt(), IsInt({ message }), Min(min, { message }), Max(max, { message })];
  return (target, key) => decorators.forEach((decorate) => decorate(target, key));
}
