import { zValidator } from '@hono/zod-validator';
import type { ValidationTargets } from 'hono';
import type { z } from 'zod';
import { ApiError } from '../errors';
import { hasNulCharacter, NUL_MESSAGE } from '../protocol/nul';

type Issue = z.core.$ZodIssue;

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

/** `password: must be at least 10 characters`; a missing field reads `email: is required`. */
export function formatIssue(issue: Issue, input: unknown): string {
  const field = issue.path.map(String).join('.');
  const missing = issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined;
  const message = missing ? 'is required' : issue.message;
  return field ? `${field}: ${message}` : message;
}

/**
 * Validates one part of the request with a protocol schema; failures become 400 invalid_request
 * naming the field (malformed JSON is caught earlier by hono and mapped to invalid_json). A string
 * holding U+0000 is refused too (protocol/nul.ts), unless `nulCheckedLater` says the handler
 * checks it itself (push refuses such a record alone, not the whole push).
 */
export const validate = <T extends z.ZodType, Target extends keyof ValidationTargets>(
  target: Target,
  schema: T,
  options: { nulCheckedLater?: boolean } = {},
) =>
  zValidator(target, schema, (result, c) => {
    if (result.success) {
      if (!options.nulCheckedLater && hasNulCharacter(result.data)) {
        throw new ApiError(400, 'invalid_request', `The request ${NUL_MESSAGE}`);
      }
      return;
    }
    if (target === 'json') {
      const type = c.req.header('content-type') ?? '';
      if (!/^application\/([\w.-]+\+)?json\s*(;|$)/i.test(type)) {
        throw new ApiError(415, 'unsupported_media_type', 'Content-Type must be application/json');
      }
    }
    const data: unknown = result.data;
    if (target === 'json' && (typeof data !== 'object' || data === null || Array.isArray(data))) {
      throw new ApiError(400, 'invalid_request', 'The body must be a JSON object');
    }
    const issue = result.error.issues[0];
    throw new ApiError(
      400,
      'invalid_request',
      issue ? formatIssue(issue, result.data) : 'Invalid request',
    );
  });
