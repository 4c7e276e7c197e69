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
