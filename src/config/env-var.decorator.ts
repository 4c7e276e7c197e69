import 'reflect-metadata';

export interface EnvVarSpec {
  /** One line for `.env.example`, the Helm values and the docs. */
  description: string;
  /** Kept out of logs and error messages: its value is redacted wherever it could appear. */
  sensitive?: boolean;
  /** Shown in `.env.example` instead of the default. */
  example?: string;
}

export interface EnvVarMeta extends EnvVarSpec {
  name: string;
}

const registry = new Map<Function, EnvVarMeta[]>();

/** Declares a configuration variable; the property name is the environment variable's name. */
export function EnvVar(spec: EnvVarSpec): PropertyDecorator {
  return (target, propertyKey) => {
    const list = registry.get(target.constructor) ?? [];
    list.push({ ...spec, name: String(propertyKey) });
    registry.set(target.constructor, list);
  };
}

export function envVarsOf(cls: Function): EnvVarMeta[] {
  return [...(registry.get(cls) ?? [])];
}
