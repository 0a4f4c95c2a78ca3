import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requireAdmin, requireUser } from '../auth/middleware';
import { filesystemBlobStore } from '../blob-store/filesystem';
import type { BlobStore } from '../blob-store/store';
import type { AppDeps, AppEnv, AuthedEnv } from '../context';
import { ApiError } from '../errors';
import { clientIp } from '../middleware/client-ip';
import {
  MAX_MODEL_BYTES,
  ModelParams,
  ReleaseNotes,
  type AdminModelListResponse,
  type ModelCatalogueResponse,
} from '../protocol';
import type { Actor } from '../services/audit';
import {
  activateVersion,
  listAllVersions,
  listCatalogue,
  publishedVersion,
  retireVersion,
  uploadVersion,
} from '../services/models';

function params(c: Context) {
  const parsed = ModelParams.safeParse({ id: c.req.param('id'), version: c.req.param('version') });
  if (!parsed.success) throw new ApiError(404, 'not_found', 'No such model version');
  return parsed.data;
}

/**
 * The bytes of a model file from the blob store every instance shares, with `Range` support so an
 * interrupted download resumes where it stopped. Content-addressed: the bytes behind a version
 * never change (ETag = sha256).
 */
async function serveFile(c: Context, store: BlobStore, hash: string) {
  const size = await store.size(hash);
  // Listed by the catalogue but not in the store (a store restored without it): a 404 that says so.
  if (size === null) throw new ApiError(404, 'not_found', 'This model file is not on the server');
  const headers: Record<string, string> = {
    'Content-Type': 'application/octet-stream',
    'Accept-Ranges': 'bytes',
    ETag: `"${hash}"`,
    'Cache-Control': 'private, max-age=31536000, immutable',
  };
  const range = /^bytes=(\d+)-(\d*)$/.exec(c.req.header('range') ?? '');
  if (c.req.header('range') && range) {
    const start = Number(range[1]);
    const end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
    if (start >= size || start > end) {
      return c.body(null, 416, { ...headers, 'Content-Range': `bytes */${size}` });
    }
    const stream = await store.getStream(hash, { start, end });
    if (!stream) throw new ApiError(404, 'not_found', 'This model file is not on the server');
    return c.body(stream, 206, {
      ...headers,
      'Content-Range': `bytes ${start}-${end}/${size}`,
      'Content-Length': String(end - start + 1),
    });
  }
  const stream = await store.getStream(hash);
  if (!stream) throw new ApiError(404, 'not_found', 'This model file is not on the server');
  return c.body(stream, 200, { ...headers, 'Content-Length': String(size) });
}

/** /api/models: the catalogue and its files, for any signed-in user. */
export const modelRoutes = ({ repos, env, blobStore }: AppDeps) => {
  const store = blobStore ?? filesystemBlobStore(env.DATA_DIR);
  return new Hono<AppEnv>()
    .use(requireUser)
    .get('/', async (c) =>
      c.json({ models: await listCatalogue(repos) } satisfies ModelCatalogueResponse, 200),
    )
    .get('/:id/:version/manifest.json', async (c) => {
      const { id, version } = params(c);
      const row = await publishedVersion(repos, id, version, c.get('user')!.isAdmin);
      return c.json(row.manifest, 200);
    })
    .get('/:id/:version/:file', async (c) => {
      const { id, version } = params(c);
      const row = await publishedVersion(repos, id, version, c.get('user')!.isAdmin);
      const hash = row.files[c.req.param('file')];
      if (!hash) throw new ApiError(404, 'not_found', `${id} ${version} has no such file`);
      return serveFile(c, store, hash);
    });
};

async function fileBytes(value: unknown, field: string): Promise<Uint8Array | undefined> {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return new TextEncoder().encode(value);
  if (value instanceof Blob) return new Uint8Array(await value.arrayBuffer());
  throw new ApiError(400, 'invalid_request', `${field}: must be a file`);
}

/** /api/admin/models: every version; upload, activate (or roll back to), retire. */
export const adminModelRoutes = ({ repos, env, now, blobStore }: AppDeps) => {
  const deps = {
    repos,
    blobStore: blobStore ?? filesystemBlobStore(env.DATA_DIR),
    dataDir: env.DATA_DIR,
    now,
  };
  const actor = (c: Context<AuthedEnv>): Actor => ({
    userId: c.get('user').id,
    ip: clientIp(c, env.TRUST_PROXY),
    at: now(),
  });
  return new Hono<AppEnv>()
    .use(requireAdmin)
    .get('/', async (c) =>
      c.json({ models: await listAllVersions(repos) } satisfies AdminModelListResponse, 200),
    )
    .post(
      '/',
      bodyLimit({
        maxSize: MAX_MODEL_BYTES + 2 * 1024 * 1024,
        onError: () => {
          throw new ApiError(413, 'payload_too_large', 'The upload is larger than the model limit');
        },
      }),
      async (c) => {
        if (!(c.req.header('content-type') ?? '').startsWith('multipart/form-data')) {
          throw new ApiError(
            415,
            'unsupported_media_type',
            'Upload the model as multipart/form-data (manifest, model, optional check and releaseNotes)',
          );
        }
        // A body that is not the multipart it claims makes the parser throw: the sender's error.
        const form = await c.req.parseBody().catch(() => {
          throw new ApiError(
            400,
            'invalid_request',
            'The upload is not valid multipart/form-data (manifest, model, optional check and releaseNotes)',
          );
        });
        const manifestBytes = await fileBytes(form.manifest, 'manifest');
        const model = await fileBytes(form.model, 'model');
        if (!manifestBytes) throw new ApiError(400, 'invalid_request', 'manifest: is required');
        if (!model) throw new ApiError(400, 'invalid_request', 'model: is required');
        let manifest: unknown;
        try {
          manifest = JSON.parse(new TextDecoder().decode(manifestBytes));
        } catch {
          throw new ApiError(422, 'invalid_model', 'The manifest is not JSON');
        }
        const notes = ReleaseNotes.safeParse(form.releaseNotes ?? '');
        if (!notes.success) {
          throw new ApiError(
            400,
            'invalid_request',
            `releaseNotes: ${notes.error.issues[0]!.message}`,
          );
        }
        const check = await fileBytes(form.check, 'check');
        const item = await uploadVersion(
          deps,
          actor(c as unknown as Context<AuthedEnv>),
          { manifest, model, check },
          notes.data,
        );
        return c.json(item, 201);
      },
    )
    .post('/:id/:version/activate', async (c) => {
      const { id, version } = params(c);
      const models = await activateVersion(
        deps,
        actor(c as unknown as Context<AuthedEnv>),
        id,
        version,
      );
      return c.json({ models } satisfies AdminModelListResponse, 200);
    })
    .post('/:id/:version/retire', async (c) => {
      const { id, version } = params(c);
      const models = await retireVersion(
        deps,
        actor(c as unknown as Context<AuthedEnv>),
        id,
        version,
      );
      return c.json({ models } satisfies AdminModelListResponse, 200);
    });
};
