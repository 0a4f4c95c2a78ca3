import { Hono } from 'hono';
import { requireUser } from '../auth/middleware';
import { filesystemBlobStore } from '../blob-store/filesystem';
import type { AppDeps, AppEnv } from '../context';
import { ApiError, notFound } from '../errors';
import { Sha256Hex, TEAM_ID_HEADER } from '../protocol';
import { getBlob, putBlob } from '../services/blobs';
import { scopeOf } from '../services/scope';

/**
 * /api/blobs/:sha256 — PUT streams the raw body (Content-Type = its mime, at most 25 MB, not
 * subject to the 1 MiB JSON limit), GET returns it within the caller's teams.
 */
export const blobRoutes = ({ repos, env, now, blobStore }: AppDeps) => {
  const deps = { repos, store: blobStore ?? filesystemBlobStore(env.DATA_DIR), now };
  return new Hono<AppEnv>()
    .use(requireUser)
    .put('/:sha256', async (c) => {
      const sha256 = Sha256Hex.safeParse(c.req.param('sha256'));
      if (!sha256.success) {
        throw new ApiError(400, 'invalid_request', `sha256: ${sha256.error.issues[0]!.message}`);
      }
      const user = c.get('user')!;
      const { status, body } = await putBlob(deps, await scopeOf(repos, user.id), {
        sha256: sha256.data,
        teamId: c.req.query('teamId') ?? c.req.header(TEAM_ID_HEADER),
        contentType: c.req.header('content-type'),
        contentLength: c.req.header('content-length'),
        body: c.req.raw.body,
      });
      return c.json(body, status);
    })
    .get('/:sha256', async (c) => {
      const sha256 = Sha256Hex.safeParse(c.req.param('sha256'));
      if (!sha256.success) throw notFound('Blob');
      const blob = await getBlob(deps, await scopeOf(repos, c.get('user')!.id), sha256.data);
      return c.body(blob.stream, 200, {
        'Content-Type': blob.mime,
        'Content-Length': String(blob.bytes),
        // Patient images: never left in the browser's HTTP cache of a shared tablet after
        // sign-out (the app keeps its own copy in IndexedDB).
        'Cache-Control': 'no-store',
        // User-supplied content on our origin: never a document that runs scripts.
        'Content-Security-Policy': "default-src 'none'; sandbox",
        ...(blob.inline ? {} : { 'Content-Disposition': 'attachment' }),
      });
    });
};
