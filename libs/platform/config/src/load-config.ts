import { z } from 'zod';

/** Thrown when configuration does not validate; the message lists every problem at once. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/**
 * A secret setting that has no default (a password): its value, or a ConfigError naming it.
 * @throws ConfigError when `value` is undefined or empty
 */
export function requireSecret(name: string, value: string | undefined): string {
  if (!value) throw new ConfigError([`${name}: required (a secret has no default; the bring-up generates it)`]);
  return value;
}

/**
 * Validates an environment-like record against a zod schema (one schema per app, keys are the env
 * variable names, e.g. `REDIS_URL`). Only `main.ts` passes `process.env`; tests pass plain objects.
 * @throws ConfigError listing every invalid or missing variable, not just the first.
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: Record<string, string | undefined>): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const key = issue.path.join('.') || '(root)';
    return `${key}: ${issue.message}`;
  });
  throw new ConfigError(problems);
}
