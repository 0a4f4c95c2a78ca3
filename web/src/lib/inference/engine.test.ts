import { describe, expect, it, vi } from 'vitest';
import { InferenceEngine, singleInput, threadsFor, type WorkerLike } from './engine';
import { parseManifest } from './manifest';
import { imageManifestJson, tabularManifestJson } from './manifests.test-helper';
import type { WorkerAnswer, WorkerMessage } from './protocol';

/** A worker that answers when the test says so. */
function fakeWorker() {
  const sent: WorkerMessage[] = [];
  const worker: WorkerLike & { terminated: boolean } = {
    terminated: false,
    onmessage: null,
    onerror: null,
    postMessage(message: WorkerMessage) {
      sent.push(message);
    },
    terminate() {
      this.terminated = true;
    },
  };
  const answer = (a: WorkerAnswer) => worker.onmessage?.({ data: a } as MessageEvent<WorkerAnswer>);
  return { worker, sent, answer };
}

const manifest = parseManifest(imageManifestJson);
const loadReply = { provider: 'wasm' as const, threads: 2, ms: 5 };

describe('InferenceEngine', () => {
  it('creates a session once per model and reuses it', async () => {
    const fake = fakeWorker();
    const engine = new InferenceEngine({ createWorker: () => fake.worker });
    const bytes = vi.fn(async () => new ArrayBuffer(8));
    const first = engine.prepare(manifest, bytes);
    await vi.waitFor(() => expect(fake.sent).toHaveLength(1));
    fake.answer({ id: fake.sent[0]!.id, ok: true, reply: loadReply });
    const loaded = await first;
    expect(loaded.provider).toBe('wasm');
    expect(await engine.prepare(manifest, bytes)).toBe(loaded);
    expect(bytes).toHaveBeenCalledTimes(1);
    expect(fake.sent).toHaveLength(1);
  });

  it('asks for a warm-up run on one input of the model shape', async () => {
    const fake = fakeWorker();
    const engine = new InferenceEngine({ createWorker: () => fake.worker, threads: 1 });
    void engine.prepare(manifest, async () => new ArrayBuffer(8));
    await vi.waitFor(() => expect(fake.sent).toHaveLength(1));
    expect(fake.sent[0]!.request).toMatchObject({
      kind: 'load',
      threads: 1,
      warmup: { input: 'image', dims: [1, 1, 28, 28] },
    });
  });

  it('sends one request at a time, in order', async () => {
    const fake = fakeWorker();
    const engine = new InferenceEngine({ createWorker: () => fake.worker });
    const model = { ...loadReply, manifest, key: 'k' };
    const a = engine.run(model, new Float32Array(784), [1, 1, 28, 28]);
    const b = engine.run(model, new Float32Array(784), [1, 1, 28, 28]);
    await vi.waitFor(() => expect(fake.sent).toHaveLength(1));
    fake.answer({
      id: fake.sent[0]!.id,
      ok: true,
      reply: { data: new Float32Array([0.1, 0.9]), dims: [1, 2], ms: 1 },
    });
    await a;
    await vi.waitFor(() => expect(fake.sent).toHaveLength(2));
    expect(fake.sent[1]!.request).toMatchObject({
      kind: 'run',
      input: 'image',
      output: 'probabilities',
    });
    fake.answer({ id: fake.sent[1]!.id, ok: false, error: { name: 'Error', message: 'boom' } });
    await expect(b).rejects.toThrow('boom');
  });

  it('times out a stuck request with a clear message and starts a fresh worker next time', async () => {
    const workers = [fakeWorker(), fakeWorker()];
    let created = 0;
    const engine = new InferenceEngine({
      createWorker: () => workers[created++]!.worker,
      timeouts: { run: 20 },
    });
    const model = { ...loadReply, manifest, key: 'k' };
    await expect(engine.run(model, new Float32Array(4), [1, 4])).rejects.toThrow(/took too long/);
    expect(workers[0]!.worker.terminated).toBe(true);
    // The session went with the worker: prepare loads it again in the new worker.
    const again = engine.prepare(manifest, async () => new ArrayBuffer(1));
    await vi.waitFor(() => expect(workers[1]!.sent).toHaveLength(1));
    workers[1]!.answer({ id: workers[1]!.sent[0]!.id, ok: true, reply: loadReply });
    await expect(again).resolves.toMatchObject({ provider: 'wasm' });
  });

  it('rejects what is in flight when the worker crashes', async () => {
    const fake = fakeWorker();
    const engine = new InferenceEngine({ createWorker: () => fake.worker });
    const pending = engine.image(
      new Blob(['x']),
      manifest.modality === 'image' ? manifest.input.image : (undefined as never),
    );
    await vi.waitFor(() => expect(fake.sent).toHaveLength(1));
    fake.worker.onerror?.({ message: 'out of memory', preventDefault() {} } as ErrorEvent);
    await expect(pending).rejects.toThrow(/stopped unexpectedly \(out of memory\)/);
  });

  it('forgets a failed load so the next attempt tries again', async () => {
    const fake = fakeWorker();
    const engine = new InferenceEngine({ createWorker: () => fake.worker });
    await expect(
      engine.prepare(manifest, async () => {
        throw new Error('checksum');
      }),
    ).rejects.toThrow('checksum');
    const retry = engine.prepare(manifest, async () => new ArrayBuffer(1));
    await vi.waitFor(() => expect(fake.sent).toHaveLength(1));
    fake.answer({ id: fake.sent[0]!.id, ok: true, reply: loadReply });
    await expect(retry).resolves.toMatchObject({ threads: 2 });
  });
});

describe('singleInput', () => {
  it('gives the input tensor and the shape of one image or one form', () => {
    expect(singleInput(manifest)).toEqual({ input: 'image', dims: [1, 1, 28, 28] });
    const tabular = parseManifest(tabularManifestJson);
    const n = tabular.modality === 'tabular' ? tabular.input.tabular.fields.length : -1;
    expect(singleInput(tabular)).toEqual({ input: 'features', dims: [1, n] });
  });
});

describe('threadsFor', () => {
  it('uses half the cores, at least 1 and at most 4', () => {
    expect([0, 1, 2, 3, 4, 6, 8, 16].map(threadsFor)).toEqual([1, 1, 1, 1, 2, 3, 4, 4]);
  });
});
