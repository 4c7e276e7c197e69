import { getMetadataStorage } from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata';

const INSTALLED = Symbol.for('rs-bridge.validation-metadata-cache');

/**
 * class-validator looks a class's rules up on every validate call by scanning every decorated class of
 * the process for ancestors (typestack/class-validator#2686); with all of rs-bridge's DTOs loaded that
 * scan is a third of a webhook body's validation. The answer only changes when rules are added, so it
 * is memoised per class and arguments, and forgotten whenever a decorator registers a rule. The same
 * remedy as twentyhq/twenty#24085.
 */
export function cacheValidationMetadata(): void {
  const storage = getMetadataStorage() as ReturnType<typeof getMetadataStorage> & { [INSTALLED]?: true };
  if (storage[INSTALLED]) return;
  storage[INSTALLED] = true;
  const lookup = storage.getTargetValidationMetadatas.bind(storage);
  const addRule = storage.addValidationMetadata.bind(storage);
  let cache = new WeakMap<Function, Map<string, ValidationMetadata[]>>();
  storage.addValidationMetadata = (metadata: ValidationMetadata) => {
    cache = new WeakMap();
    addRule(metadata);
  };
  storage.getTargetValidationMetadatas = (target, schema, always, strictGroups, groups) => {
    const key = `${schema}\u0000${always}\u0000${strictGroups}\u0000${groups?.join('\u0001') ?? ''}`;
    let byArguments = cache.get(target);
    if (!byArguments) cache.set(target, (byArguments = new Map()));
    let rules = byArguments.get(key);
    if (!rules) byArguments.set(key, (rules = lookup(target, schema, always, strictGroups, groups)));
    return rules;
  };
}
