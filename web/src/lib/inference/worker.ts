// The inference worker: the only code that loads onnxruntime-web (through runtimes.ts). It decodes
// and pre-processes images off the main thread and keeps one ONNX session per model version.
import {
  CORRUPT_IMAGE_MESSAGE,
  ImageInputError,
  UNSUPPORTED_IMAGE_MESSAGE,
  checkImageSize,
  preprocessImage,
  sniffImageType,
} from './preprocess';
import type {
  ImageReply,
  LoadReply,
  Provider,
  RunReply,
  WorkerAnswer,
  WorkerMessage,
  WorkerRequest,
} from './protocol';
import { runtime, webgpuUnavailable, type Ort, type Session } from './runtimes';

/** A session, with the runtime that made it: its tensors must come from that runtime. */
interface Loaded {
  session: Session;
  ort: Ort;
  provider: Provider;
  threads: number;
}

const sessions = new Map<string, Loaded>();

async function load(request: Extract<WorkerRequest, { kind: 'load' }>): Promise<LoadReply> {
  const existing = sessions.get(request.key);
  if (existing) return { provider: existing.provider, threads: existing.threads, ms: 0 };
  const started = performance.now();
  const model = new Uint8Array(request.model);
  let fallback: string | undefined;
  if (request.prefer !== 'wasm') {
    fallback = (await webgpuUnavailable()) ?? undefined;
    if (!fallback) {
      try {
        const ort = await runtime('webgpu', request.threads);
        const session = await ort.InferenceSession.create(model, {
          executionProviders: ['webgpu'],
        });
        return await remember(request, { session, ort, provider: 'webgpu' }, started);
      } catch (error) {
        fallback = `WebGPU session failed: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
    if (request.prefer === 'webgpu') throw new Error(`WebGPU is not available (${fallback}).`);
  }
  const ort = await runtime('cpu', request.threads);
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
  return { ...(await remember(request, { session, ort, provider: 'wasm' }, started)), fallback };
}

/** Keeps the new session, after its warm-up run when the request asks for one. */
async function remember(
  request: Extract<WorkerRequest, { kind: 'load' }>,
  loaded: Omit<Loaded, 'threads'>,
  started: number,
): Promise<LoadReply> {
  const threads = Number(loaded.ort.env.wasm.numThreads) || 1;
  let warmupMs: number | undefined;
  if (request.warmup) {
    const { input, dims } = request.warmup;
    const zeros = new Float32Array(dims.reduce((a, b) => a * b, 1));
    const warmupStarted = performance.now();
    const results = await loaded.session.run({ [input]: new loaded.ort.Tensor(zeros, dims) });
    warmupMs = performance.now() - warmupStarted;
    for (const tensor of Object.values(results)) tensor.dispose();
  }
  sessions.set(request.key, { ...loaded, threads });
  return { provider: loaded.provider, threads, ms: performance.now() - started, warmupMs };
}

async function run(request: Extract<WorkerRequest, { kind: 'run' }>): Promise<RunReply> {
  const entry = sessions.get(request.key);
  if (!entry) throw new Error('The model is not loaded.');
  const feeds = { [request.input]: new entry.ort.Tensor('float32', request.data, request.dims) };
  const started = performance.now();
  const results = await entry.session.run(feeds, [request.output]);
  const ms = performance.now() - started;
  const output = results[request.output];
  if (!output) throw new Error(`The model has no output named "${request.output}".`);
  const data = new Float32Array(output.data as Float32Array);
  for (const tensor of Object.values(results)) tensor.dispose();
  return { data, dims: [...output.dims], ms };
}

async function image(request: Extract<WorkerRequest, { kind: 'image' }>): Promise<ImageReply> {
  const head = new Uint8Array(await request.file.slice(0, 16).arrayBuffer());
  if (!sniffImageType(head)) throw new ImageInputError(UNSUPPORTED_IMAGE_MESSAGE);
  let bitmap: ImageBitmap;
  try {
    // Decoded off the main thread, turned upright from its EXIF orientation.
    bitmap = await createImageBitmap(request.file, { imageOrientation: 'from-image' });
  } catch {
    throw new ImageInputError(CORRUPT_IMAGE_MESSAGE);
  }
  const { width, height } = bitmap;
  try {
    checkImageSize(width, height, request.spec);
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext('2d', { willReadFrequently: true });
    if (!context) throw new Error('No 2D canvas in this browser.');
    context.drawImage(bitmap, 0, 0);
    const pixels = context.getImageData(0, 0, width, height, { colorSpace: 'srgb' }).data;
    const tensor = preprocessImage(
      pixels,
      width,
      height,
      request.spec,
    ) as Float32Array<ArrayBuffer>;
    const scale = Math.min(1, request.previewSize / Math.max(width, height));
    const preview = await createImageBitmap(bitmap, {
      resizeWidth: Math.max(1, Math.round(width * scale)),
      resizeHeight: Math.max(1, Math.round(height * scale)),
      resizeQuality: 'high',
    });
    return { tensor, width, height, preview };
  } finally {
    bitmap.close();
  }
}

async function handle(request: WorkerRequest) {
  switch (request.kind) {
    case 'load':
      return load(request);
    case 'run':
      return run(request);
    case 'image':
      return image(request);
  }
}

function transferables(reply: LoadReply | ImageReply | RunReply): Transferable[] {
  if ('preview' in reply) return [reply.tensor.buffer, reply.preview];
  if ('data' in reply) return [reply.data.buffer];
  return [];
}

self.onmessage = async (event: MessageEvent<WorkerMessage>) => {
  const { id, request } = event.data;
  let answer: WorkerAnswer;
  try {
    const reply = await handle(request);
    answer = { id, ok: true, reply };
    self.postMessage(answer, { transfer: transferables(reply) });
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    answer = { id, ok: false, error: { name: e.name, message: e.message } };
    self.postMessage(answer);
  }
};
