import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createApp } from '../app';
import { filesystemBlobStore } from '../blob-store/filesystem';
import type { BlobStore } from '../blob-store/store';
import { AdminModelItem, ModelCatalogueResponse } from '../protocol';
import { importBundledModels, legacyModelFilePath } from '../services/models';
import {
  errorOf,
  makeTestApp,
  ORIGIN,
  tempDir,
  TestClient,
  testEnv,
  testPasswords,
  withAdmin,
} from '../test-utils';

// The repository's published models: the same files a fresh server imports at start.
const bundled = fileURLToPath(new URL('../../../models', import.meta.url));
const read = (file: string) => readFileSync(path.join(bundled, file));
// Loosely typed on purpose: the tests break it in many ways.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type LooseManifest = Record<string, any>;
const diabetesManifest = (): LooseManifest =>
  JSON.parse(read('diabetes-risk/manifest.json').toString()) as LooseManifest;
const diabetesModel = read('diabetes-risk/model.onnx');
/** The bundled diabetes version (whatever training last wrote); uploads here use 1.1.0 and up. */
const BUNDLED = diabetesManifest().version as string;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const silent = { info: () => {}, warn: () => {} };

/** Logs kept, to see what a start did. */
function recordingLogger() {
  const lines: string[] = [];
  return {
    lines,
    info: (msg: string) => lines.push(msg),
    warn: (msg: string) => lines.push(`warn: ${msg}`),
  };
}

async function setup(options: { blobStore?: BlobStore } = {}) {
  const data = tempDir('fdx-models-');
  onTestFinished(data.remove);
  const blobStore = options.blobStore ?? filesystemBlobStore(data.dir);
  const t = await makeTestApp({ env: { DATA_DIR: data.dir }, blobStore });
  onTestFinished(t.close);
  const deps = { repos: t.repos, blobStore, dataDir: data.dir, now: t.clock.now };
  const imported = await importBundledModels(deps, bundled, silent);
  const world = await withAdmin(t.app);
  const clinician = await world.member('clinician@example.org');
  const catalogue = async (client: TestClient) => {
    const res = await client.get('/api/models');
    expect(res.status).toBe(200);
    return ModelCatalogueResponse.parse(await res.json()).models;
  };
  const upload = (
    client: TestClient,
    parts: { manifest?: unknown; model?: Uint8Array; releaseNotes?: string },
  ) => {
    const form = new FormData();
    if (parts.manifest !== undefined) {
      form.append('manifest', new Blob([JSON.stringify(parts.manifest)]), 'manifest.json');
    }
    if (parts.model) form.append('model', new Blob([Uint8Array.from(parts.model)]), 'model.onnx');
    if (parts.releaseNotes !== undefined) form.append('releaseNotes', parts.releaseNotes);
    return t.app.request('/api/admin/models', {
      method: 'POST',
      body: form,
      headers: { origin: ORIGIN, cookie: `fdx_session=${client.token}` },
    });
  };
  return {
    ...t,
    ...world,
    dataDir: data.dir,
    deps,
    imported,
    clinician: clinician.client,
    catalogue,
    upload,
  };
}

/** The diabetes model published again under another version (same graph). */
const nextVersion = (version = '1.1.0'): LooseManifest => ({ ...diabetesManifest(), version });

describe('the model catalogue', () => {
  it('imports the bundled models once at start, each active', async () => {
    const s = await setup();
    expect(s.imported).toBe(2);
    const models = await s.catalogue(s.clinician);
    expect(models.map((m) => [m.id, m.status]).sort()).toEqual([
      ['diabetes-risk', 'active'],
      ['pneumonia-cxr', 'active'],
    ]);
    expect(await importBundledModels(s.deps, bundled, silent)).toBe(0);
  });

  it('is for signed-in users only', async () => {
    const s = await setup();
    expect((await new TestClient(s.app).get('/api/models')).status).toBe(401);
  });

  it('serves a version manifest and its file, verified by sha256, and resumes with Range', async () => {
    const s = await setup();
    const [item] = (await s.catalogue(s.clinician)).filter((m) => m.id === 'diabetes-risk');
    const manifest = await s.clinician.get(
      `/api/models/diabetes-risk/${item!.version}/manifest.json`,
    );
    expect(await manifest.json()).toMatchObject({
      id: 'diabetes-risk',
      sha256: item!.sha256,
      // The card's words in other languages survive the contract check, units included.
      translations: { fr: { units: { age: 'ans' }, split: 'de validation' } },
    });
    const whole = await s.clinician.get(`/api/models/diabetes-risk/${item!.version}/model.onnx`);
    expect(whole.status).toBe(200);
    const bytes = new Uint8Array(await whole.arrayBuffer());
    expect(sha256(bytes)).toBe(item!.sha256);
    expect(whole.headers.get('etag')).toBe(`"${item!.sha256}"`);

    const rest = await s.clinician.get(`/api/models/diabetes-risk/${item!.version}/model.onnx`, {
      range: 'bytes=1000-',
    });
    expect(rest.status).toBe(206);
    expect(rest.headers.get('content-range')).toBe(
      `bytes 1000-${bytes.length - 1}/${bytes.length}`,
    );
    expect(new Uint8Array(await rest.arrayBuffer())).toEqual(bytes.subarray(1000));
    const past = await s.clinician.get(`/api/models/diabetes-risk/${item!.version}/model.onnx`, {
      range: `bytes=${bytes.length}-`,
    });
    expect(past.status).toBe(416);
    expect((await s.clinician.get('/api/models/diabetes-risk/9.9.9/model.onnx')).status).toBe(404);
    expect(
      (await s.clinician.get(`/api/models/diabetes-risk/${item!.version}/other.bin`)).status,
    ).toBe(404);
  });

  it('publishes an uploaded version only once activated, retires the old one, and rolls back', async () => {
    const s = await setup();
    const res = await s.upload(s.admin, {
      manifest: nextVersion(),
      model: diabetesModel,
      releaseNotes: 'Recalibrated.',
    });
    expect(res.status).toBe(201);
    expect(AdminModelItem.parse(await res.json())).toMatchObject({
      id: 'diabetes-risk',
      version: '1.1.0',
      status: 'staged',
      source: 'uploaded',
    });
    const versions = async () =>
      (await s.catalogue(s.clinician))
        .filter((m) => m.id === 'diabetes-risk')
        .map((m) => [m.version, m.status]);
    expect(await versions()).toEqual([[BUNDLED, 'active']]);
    // A staged version's files are not for tablets yet.
    expect((await s.clinician.get('/api/models/diabetes-risk/1.1.0/model.onnx')).status).toBe(404);

    expect((await s.admin.post('/api/admin/models/diabetes-risk/1.1.0/activate')).status).toBe(200);
    expect(await versions()).toEqual([
      [BUNDLED, 'retired'],
      ['1.1.0', 'active'],
    ]);
    // Rolled back: the older version is active again.
    expect((await s.admin.post(`/api/admin/models/diabetes-risk/${BUNDLED}/activate`)).status).toBe(
      200,
    );
    expect(await versions()).toEqual([
      [BUNDLED, 'active'],
      ['1.1.0', 'retired'],
    ]);
    // A restart imports nothing and keeps the rollback.
    expect(await importBundledModels(s.deps, bundled, silent)).toBe(0);
    expect((await versions())[0]).toEqual([BUNDLED, 'active']);

    const audit = await (await s.admin.get('/api/admin/audit?limit=10')).json();
    const actions = (audit as { entries: { action: string; target: string }[] }).entries.map(
      (e) => `${e.action} ${e.target}`,
    );
    expect(actions).toEqual(
      expect.arrayContaining([
        'model.upload diabetes-risk@1.1.0',
        'model.activate diabetes-risk@1.1.0',
        `model.activate diabetes-risk@${BUNDLED}`,
      ]),
    );
  });

  it('refuses uploads that do not match the contract or the graph, with the reason', async () => {
    const s = await setup();
    const refused = async (parts: Parameters<typeof s.upload>[1], status: number, text: RegExp) => {
      const res = await s.upload(s.admin, parts);
      expect(res.status).toBe(status);
      expect((await errorOf(res)).message).toMatch(text);
    };
    const { intendedUse: _dropped, ...noIntendedUse } = nextVersion();
    await refused({ manifest: noIntendedUse, model: diabetesModel }, 422, /intendedUse/);
    await refused(
      { manifest: nextVersion('1.1'), model: diabetesModel },
      422,
      /version such as 1\.2\.0/,
    );
    await refused(
      { manifest: nextVersion(), model: diabetesModel.subarray(0, 100) },
      422,
      /has 100 bytes/,
    );
    const tampered = Uint8Array.from(diabetesModel);
    tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 0xff;
    await refused({ manifest: nextVersion(), model: tampered }, 422, /sha256/);

    const wrongInput = nextVersion();
    wrongInput.input = { tabular: { ...wrongInput.input.tabular, tensor: 'x' } };
    await refused({ manifest: wrongInput, model: diabetesModel }, 422, /graph has no input "x"/);
    const threeLabels = nextVersion();
    threeLabels.output = { ...threeLabels.output, labels: ['a', 'b', 'c'], positive: 'a' };
    await refused({ manifest: threeLabels, model: diabetesModel }, 422, /need \[1, 3\]/);

    const garbage = new TextEncoder().encode('not an onnx graph at all');
    await refused(
      {
        manifest: { ...nextVersion(), bytes: garbage.length, sha256: sha256(garbage) },
        model: garbage,
      },
      422,
      /not an ONNX graph/,
    );
    await refused({ manifest: nextVersion() }, 400, /model: is required/);
    await refused(
      { manifest: diabetesManifest(), model: diabetesModel },
      409,
      /already in the catalogue/,
    );
    await refused(
      { manifest: nextVersion(), model: diabetesModel, releaseNotes: 'x'.repeat(4001) },
      400,
      /releaseNotes/,
    );
    // Nothing was stored by any of these.
    expect((await s.catalogue(s.admin)).filter((m) => m.version === '1.1.0')).toEqual([]);
  });

  it('is managed by administrators only', async () => {
    const s = await setup();
    expect(
      (await s.upload(s.clinician, { manifest: nextVersion(), model: diabetesModel })).status,
    ).toBe(403);
    expect(
      (await s.clinician.post(`/api/admin/models/diabetes-risk/${BUNDLED}/retire`)).status,
    ).toBe(403);
    expect((await s.clinician.get('/api/admin/models')).status).toBe(403);
    const json = await s.admin.post('/api/admin/models', { manifest: 'x' });
    expect(json.status).toBe(415);
    // Claims multipart but is not (found by the route fuzzer): the sender's error, not a 500.
    const broken = await s.admin.request(
      'POST',
      '/api/admin/models',
      {},
      {
        'content-type': 'multipart/form-data; boundary=x',
      },
    );
    expect(broken.status).toBe(400);
    expect((await errorOf(broken)).message).toMatch(/not valid multipart\/form-data/);
    expect((await s.admin.post('/api/admin/models/diabetes-risk/7.0.0/activate')).status).toBe(404);
    expect((await s.admin.post('/api/admin/models/Bad_Id/1.0.0/retire')).status).toBe(404);
  });

  it('lets an administrator retire a version, which stays listed for the records made with it', async () => {
    const s = await setup();
    const { version } = JSON.parse(read('pneumonia-cxr/manifest.json').toString()) as {
      version: string;
    };
    expect((await s.admin.post(`/api/admin/models/pneumonia-cxr/${version}/retire`)).status).toBe(
      200,
    );
    const pneumonia = (await s.catalogue(s.clinician)).filter((m) => m.id === 'pneumonia-cxr');
    expect(pneumonia.map((m) => m.status)).toEqual(['retired']);
    expect((await s.clinician.get(`/api/models/pneumonia-cxr/${version}/model.onnx`)).status).toBe(
      200,
    );
  });
});

describe('model files in the shared blob store', () => {
  it('serves an upload from another instance, which never had the file, with Range', async () => {
    // Two instances on one database and one store, each with its own data folder (two machines).
    const shared = tempDir('fdx-models-store-');
    onTestFinished(shared.remove);
    const store = filesystemBlobStore(shared.dir);
    const s = await setup({ blobStore: store });
    const other = tempDir('fdx-models-b-');
    onTestFinished(other.remove);
    const b = createApp({
      repos: s.repos,
      env: testEnv({ DATA_DIR: other.dir }),
      blobStore: store,
      now: s.clock.now,
      passwords: testPasswords,
    });
    const res = await s.upload(s.admin, { manifest: nextVersion(), model: diabetesModel });
    expect(res.status).toBe(201);
    expect((await s.admin.post('/api/admin/models/diabetes-risk/1.1.0/activate')).status).toBe(200);

    const onB = new TestClient(b);
    onB.token = s.clinician.token;
    const whole = await onB.get('/api/models/diabetes-risk/1.1.0/model.onnx');
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-length')).toBe(String(diabetesModel.length));
    expect(whole.headers.get('etag')).toBe(`"${sha256(diabetesModel)}"`);
    expect(whole.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
    expect(Buffer.from(await whole.arrayBuffer()).equals(diabetesModel)).toBe(true);
    const part = await onB.get('/api/models/diabetes-risk/1.1.0/model.onnx', {
      range: 'bytes=10-109',
    });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 10-109/${diabetesModel.length}`);
    expect(part.headers.get('content-length')).toBe('100');
    expect(Buffer.from(await part.arrayBuffer()).equals(diabetesModel.subarray(10, 110))).toBe(
      true,
    );
    // A range past the end is cut to it; one starting past it is refused.
    const tail = await onB.get('/api/models/diabetes-risk/1.1.0/model.onnx', {
      range: `bytes=${diabetesModel.length - 5}-${diabetesModel.length + 100}`,
    });
    expect(tail.status).toBe(206);
    expect(Buffer.from(await tail.arrayBuffer()).equals(diabetesModel.subarray(-5))).toBe(true);
    const past = await onB.get('/api/models/diabetes-risk/1.1.0/model.onnx', {
      range: `bytes=${diabetesModel.length}-`,
    });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${diabetesModel.length}`);

    // Nothing in either data folder: the files are in the store only.
    for (const dir of [s.dataDir, other.dir]) {
      expect(existsSync(path.join(dir, 'models'))).toBe(false);
      expect(existsSync(path.join(dir, 'blobs'))).toBe(false);
    }
    expect(await store.has(sha256(diabetesModel))).toBe(true);
    const pneumonia = JSON.parse(read('pneumonia-cxr/manifest.json').toString()) as {
      input: { image: { check: string } };
    };
    expect(await store.has(sha256(read(`pneumonia-cxr/${pneumonia.input.image.check}`)))).toBe(
      true,
    );
  });

  it('copies the files an earlier version kept in DATA_DIR/models into the store at start, once', async () => {
    const s = await setup();
    const store = s.deps.blobStore;
    const res = await s.upload(s.admin, { manifest: nextVersion(), model: diabetesModel });
    expect(res.status).toBe(201);
    expect((await s.admin.post('/api/admin/models/diabetes-risk/1.1.0/activate')).status).toBe(200);
    // The installation as an earlier version left it: the uploaded file under models/ only.
    const hash = sha256(diabetesModel);
    expect(await store.delete(hash)).toBe(true);
    mkdirSync(path.join(s.dataDir, 'models'));
    writeFileSync(legacyModelFilePath(s.dataDir, hash), diabetesModel);
    // A damaged file (not its name's bytes) and a temporary one a crash left: neither copied.
    const damaged = sha256(Buffer.from('other bytes'));
    writeFileSync(legacyModelFilePath(s.dataDir, damaged), 'not those bytes');
    writeFileSync(`${legacyModelFilePath(s.dataDir, hash)}.1234.tmp`, 'half');
    const missing = await s.clinician.get('/api/models/diabetes-risk/1.1.0/model.onnx');
    expect(missing.status).toBe(404);
    expect((await errorOf(missing)).message).toMatch(/not on the server/);

    const log = recordingLogger();
    expect(await importBundledModels(s.deps, bundled, log)).toBe(0);
    expect(log.lines).toContain('model files copied into the blob store');
    expect(log.lines).toContain('warn: damaged model file not copied');
    expect(await store.has(hash)).toBe(true);
    expect(await store.has(damaged)).toBe(false);
    const got = await s.clinician.get('/api/models/diabetes-risk/1.1.0/model.onnx');
    expect(got.status).toBe(200);
    expect(sha256(new Uint8Array(await got.arrayBuffer()))).toBe(hash);

    // The next start finds it there and copies nothing.
    const again = recordingLogger();
    expect(await importBundledModels(s.deps, bundled, again)).toBe(0);
    expect(again.lines).not.toContain('model files copied into the blob store');
  });

  it('stores a known bundled version’s file again when the store lacks it', async () => {
    const s = await setup();
    const hash = sha256(diabetesModel);
    expect(await s.deps.blobStore.delete(hash)).toBe(true);
    expect((await s.clinician.get(`/api/models/diabetes-risk/${BUNDLED}/model.onnx`)).status).toBe(
      404,
    );
    expect(await importBundledModels(s.deps, bundled, silent)).toBe(0);
    const got = await s.clinician.get(`/api/models/diabetes-risk/${BUNDLED}/model.onnx`);
    expect(got.status).toBe(200);
    expect(sha256(new Uint8Array(await got.arrayBuffer()))).toBe(hash);
  });
});
