import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { databaseConfigFrom, DatabaseUrlError, type DatabaseConfig } from './db/postgres';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The built web app, relative to this file: <repo>/web/build. */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../web/build', import.meta.url));
/** The models bundled with the app, imported into the catalogue at start: <repo>/models. */
export const DEFAULT_MODELS_DIR = fileURLToPath(new URL('../../models', import.meta.url));

export interface Env {
  PORT: number;
  HOST: string;
  /** Absolute path; the SQLite file `fielddx.sqlite` lives here. */
  DATA_DIR: string;
  /** An origin: scheme://host[:port], no trailing slash. */
  PUBLIC_ORIGIN: string;
  LOG_LEVEL: LogLevel;
  /** Absolute path of the built web app. */
  WEB_DIR: string;
  /** Take the client IP from X-Forwarded-For (only behind one reverse proxy that appends it). */
  TRUST_PROXY: boolean;
  /** Absolute path of the bundled models (models/index.json and its folders). */
  MODELS_DIR: string;
  /** DATABASE_URL: the embedded SQLite database in DATA_DIR (unset), or PostgreSQL. */
  DATABASE: DatabaseConfig;
}

export class EnvError extends Error {}

// An empty variable counts as unset.
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

const RawEnv = z.object({
  PORT: optional(
    z
      .string()
      .regex(/^\d+$/, 'must be an integer between 1 and 65535')
      .transform(Number)
      .pipe(z.number().int().min(1).max(65535, 'must be an integer between 1 and 65535')),
  ),
  HOST: optional(z.string()),
  DATA_DIR: optional(z.string()),
  PUBLIC_ORIGIN: optional(z.string()),
  LOG_LEVEL: optional(z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` })),
  WEB_DIR: optional(z.string()),
  MODELS_DIR: optional(z.string()),
  TRUST_PROXY: optional(
    z
      .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
      .transform((v) => v === 'true' || v === '1'),
  ),
});

function parseOrigin(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new EnvError('PUBLIC_ORIGIN must be a URL such as https://fielddx.example.org');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new EnvError('PUBLIC_ORIGIN must be an http:// or https:// URL');
  }
  return url.origin;
}

/**
 * Pure: turns raw variables into a typed, defaulted Env, or throws an EnvError whose message names
 * the variable (e.g. `PORT must be an integer between 1 and 65535`). Creates nothing.
 */
export function parseEnv(
  raw: Record<string, string | undefined>,
  cwd: string = process.cwd(),
): Env {
  const result = RawEnv.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const name = String(issue.path[0]);
    const message = name === 'PORT' ? 'must be an integer between 1 and 65535' : issue.message;
    throw new EnvError(`${name} ${message}`);
  }
  const v = result.data;
  const PORT = v.PORT ?? 8787;
  return {
    PORT,
    HOST: v.HOST ?? '0.0.0.0',
    DATA_DIR: path.resolve(cwd, v.DATA_DIR ?? './data'),
    PUBLIC_ORIGIN: parseOrigin(v.PUBLIC_ORIGIN ?? `http://localhost:${PORT}`),
    LOG_LEVEL: v.LOG_LEVEL ?? 'info',
    WEB_DIR: v.WEB_DIR ? path.resolve(cwd, v.WEB_DIR) : DEFAULT_WEB_DIR,
    TRUST_PROXY: v.TRUST_PROXY ?? false,
    MODELS_DIR: v.MODELS_DIR ? path.resolve(cwd, v.MODELS_DIR) : DEFAULT_MODELS_DIR,
    DATABASE: databaseOf(raw),
  };
}

function databaseOf(raw: Record<string, string | undefined>): DatabaseConfig {
  try {
    return databaseConfigFrom(raw);
  } catch (error) {
    if (error instanceof DatabaseUrlError) throw new EnvError(error.message);
    throw error;
  }
}

/** Parses process.env once for the server; on an invalid value prints one line naming it and exits 1. */
export function loadEnv(raw: Record<string, string | undefined> = process.env): Env {
  let env: Env;
  try {
    env = parseEnv(raw);
  } catch (err) {
    if (!(err instanceof EnvError)) throw err;
    process.stderr.write(`Invalid environment: ${err.message}\n`);
    process.exit(1);
  }
  mkdirSync(env.DATA_DIR, { recursive: true });
  return env;
}

/**
 * DATA_DIR for the command-line tools (backup, restore, move-to-postgres), read as the server
 * reads it; on an invalid environment prints one line naming the variable and exits 1.
 */
export function dataDirFromEnv(raw: Record<string, string | undefined> = process.env): string {
  try {
    return parseEnv(raw).DATA_DIR;
  } catch (err) {
    if (!(err instanceof EnvError)) throw err;
    console.error(`Invalid environment: ${err.message}`);
    process.exit(1);
  }
}
