/** A read-only view of `T` at every depth: what the rest of the gateway receives from the loader. */
export type DeepReadonly<T> = T extends (infer Element)[]
  ? readonly DeepReadonly<Element>[]
  : T extends object
    ? { readonly [Key in keyof T]: DeepReadonly<T[Key]> }
    : T;

/**
 * Freezes `value` and everything reachable from it, so a module that mutates the shared config
 * (e.g. pushing into an allowlist at runtime) throws in strict mode instead of silently changing
 * what every other module sees. Hot reload swaps in a new frozen object instead.
 */
export function deepFreeze<T>(value: T): DeepReadonly<T> {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Reflect.ownKeys(value)) {
      deepFreeze((value as Record<PropertyKey, unknown>)[key]);
    }
  }
  return value as DeepReadonly<T>;
}
