// The page's side of the inference worker: one request at a time (a queue), each with a timeout.
// A request that times out or a worker that dies ends with a clear error, and the next request gets
// a fresh worker: the page never waits forever.
import { modelKey, type ImageInput, type Manifest } from './manifest';
import type {
  ImageReply,
  LoadReply,
  ProviderPreference,
  ReplyOf,
  RunReply,
  WorkerAnswer,
  WorkerMessage,
  WorkerRequest,
} from './protocol';

export class InferenceError extends Error {
  override name = 'InferenceError';
}

export interface Timeouts {
  load: number;
  image: number;
  run: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = { load: 120_000, image: 30_000, run: 30_000 };

const TIMEOUT_MESSAGES: Record<keyof Timeouts, string> = {
  load: 'The model took too long to start and was stopped. Try again; if it keeps happening, restart the app.',
  image: 'Reading the image took too long and was stopped. Try a smaller image.',
  run: 'The model took too long to answer and was stopped. Try again.',
};

/** The subset of Worker the engine uses (a fake one in tests). */
export type WorkerLike = Pick<Worker, 'postMessage' | 'terminate'> & {
  onmessage: ((event: MessageEvent<WorkerAnswer>) => void) | null;
  onerror: ((event: ErrorEvent) => void) | null;
};

export interface EngineOptions {
  createWorker?: () => WorkerLike;
  timeouts?: Partial<Timeouts>;
  /** WASM threads when cross-origin isolated. */
  threads?: number;
}

/** A model whose session exists in the worker. */
export interface LoadedModel extends LoadReply {
  manifest: Manifest;
  key: string;
}

/**
 * WASM threads for a device with `cores` logical cores: half of them, at most 4 (ORT's own rule),
 * so 1 on a 2-core tablet. Measured on 2 cores, runs interleaved: 1 thread took half the time of 2
 * for one X-ray (4.5 vs 8–10 ms), and the heatmap's batch of 36 was no faster with 2 (and several
 * times slower when other work kept the second core busy): ORT's threads spin-wait on each other,
 * which only pays off with cores to spare. The count is fixed when the runtime starts, for single
 * runs and batches alike.
 */
export function threadsFor(cores: number): number {
  return Math.max(1, Math.min(4, Math.floor(cores / 2)));
}

export function defaultThreads(): number {
  return threadsFor(typeof navigator === 'undefined' ? 1 : navigator.hardwareConcurrency || 1);
}

/** The model's input tensor name and its shape for one image or one form. */
export function singleInput(m: Manifest): { input: string; dims: number[] } {
  if (m.modality === 'image') {
    const { tensor, channels, height, width } = m.input.image;
    return { input: tensor, dims: [1, channels, height, width] };
  }
  return { input: m.input.tabular.tensor, dims: [1, m.input.tabular.fields.length] };
}

function createInferenceWorker(): WorkerLike {
  return new Worker(new URL('./worker.ts', import.meta.url), {
    type: 'module',
    name: 'fielddx-inference',
  });
}

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

export class InferenceEngine {
  readonly timeouts: Timeouts;
  readonly threads: number;
  #createWorker: () => WorkerLike;
  #worker: WorkerLike | null = null;
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #queue: Promise<unknown> = Promise.resolve();
  #loads = new Map<string, Promise<LoadedModel>>();

  constructor(options: EngineOptions = {}) {
    this.#createWorker = options.createWorker ?? createInferenceWorker;
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.threads = options.threads ?? defaultThreads();
  }

  /**
   * Creates the model's session once (per provider preference) and reuses it; `bytes` is only
   * called when the session does not exist yet.
   */
  prepare(
    manifest: Manifest,
    bytes: () => Promise<ArrayBuffer>,
    prefer: ProviderPreference = 'auto',
  ): Promise<LoadedModel> {
    const key = `${modelKey(manifest)}|${prefer}`;
    let loading = this.#loads.get(key);
    if (!loading) {
      loading = bytes()
        .then((model) =>
          this.#request(
            {
              kind: 'load',
              key,
              model,
              prefer,
              threads: this.threads,
              warmup: singleInput(manifest),
            },
            [model],
          ),
        )
        .then((reply) => ({ ...reply, manifest, key }));
      this.#loads.set(key, loading);
      loading.catch(() => this.#loads.delete(key));
    }
    return loading;
  }

  /** Runs a loaded model on a float32 input; returns the raw output. */
  run(model: LoadedModel, data: Float32Array<ArrayBuffer>, dims: number[]): Promise<RunReply> {
    const m = model.manifest;
    const { input } = singleInput(m);
    return this.#request(
      { kind: 'run', key: model.key, input, output: m.output.tensor, data, dims },
      [data.buffer],
    );
  }

  /** Decodes and pre-processes an image file in the worker. */
  image(file: Blob, spec: ImageInput, previewSize = 480): Promise<ImageReply> {
    const { width, height, channels } = spec;
    return this.#request({ kind: 'image', file, spec: { width, height, channels }, previewSize });
  }

  /** Stops the worker; the next request starts a new one. */
  dispose(reason = 'The inference engine was stopped.') {
    this.#worker?.terminate();
    this.#worker = null;
    this.#loads.clear();
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(new InferenceError(reason));
  }

  #request<R extends WorkerRequest>(
    request: R,
    transfer: Transferable[] = [],
  ): Promise<ReplyOf<R>> {
    const task = this.#queue.then(() => this.#send(request, transfer));
    this.#queue = task.catch(() => undefined);
    return task as Promise<ReplyOf<R>>;
  }

  #send(request: WorkerRequest, transfer: Transferable[]): Promise<unknown> {
    const worker = this.#ensureWorker();
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        // A stuck WASM call cannot be interrupted: the worker goes, with its sessions.
        this.#pending.delete(id);
        this.dispose();
        reject(new InferenceError(TIMEOUT_MESSAGES[request.kind]));
      }, this.timeouts[request.kind]);
      this.#pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      const message: WorkerMessage = { id, request };
      worker.postMessage(message, transfer);
    });
  }

  #ensureWorker(): WorkerLike {
    if (this.#worker) return this.#worker;
    const worker = this.#createWorker();
    worker.onmessage = (event) => {
      const answer = event.data;
      const pending = this.#pending.get(answer.id);
      if (!pending) return;
      this.#pending.delete(answer.id);
      if (answer.ok) pending.resolve(answer.reply);
      else {
        const error = new InferenceError(answer.error.message);
        error.name = answer.error.name;
        pending.reject(error);
      }
    };
    worker.onerror = (event) => {
      event.preventDefault?.();
      this.dispose(
        `The inference engine stopped unexpectedly${event.message ? ` (${event.message})` : ''}. Try again.`,
      );
    };
    this.#worker = worker;
    return worker;
  }
}

let shared: InferenceEngine | null = null;

/** The app's one engine: sessions live as long as the page. */
export function getEngine(): InferenceEngine {
  shared ??= new InferenceEngine();
  return shared;
}
