// Messages between the page (engine.ts) and the inference worker (worker.ts).
import type { ImageSpec } from './preprocess';

export type Provider = 'webgpu' | 'wasm';
/** 'auto': WebGPU when the device offers an adapter and the session creates, otherwise WASM. */
export type ProviderPreference = 'auto' | Provider;

export type WorkerRequest =
  | {
      kind: 'load';
      key: string;
      model: ArrayBuffer;
      prefer: ProviderPreference;
      /** WASM threads; applied when the runtime starts (the first load). */
      threads: number;
      /**
       * One run on zeros of this shape right after creation, so its one-off costs (the browser
       * compiling the WASM kernels it meets first, buffers sized) are paid while the model loads,
       * not on the user's first "Run model".
       */
      warmup?: { input: string; dims: number[] };
    }
  | { kind: 'image'; file: Blob; spec: ImageSpec; previewSize: number }
  | {
      kind: 'run';
      key: string;
      input: string;
      output: string;
      data: Float32Array<ArrayBuffer>;
      dims: number[];
    };

export interface LoadReply {
  provider: Provider;
  /** WASM threads in use (1 without cross-origin isolation). */
  threads: number;
  /** Session creation time, ms, the warm-up run included. */
  ms: number;
  /** The warm-up run alone, ms (absent without one). */
  warmupMs?: number;
  /** Why WebGPU was not used, when it was wanted. */
  fallback?: string;
}

export interface ImageReply {
  /** The model input, NCHW, batch of one. */
  tensor: Float32Array<ArrayBuffer>;
  /** The decoded image's size, upright. */
  width: number;
  height: number;
  /** The upright original scaled down to fit previewSize, for display. */
  preview: ImageBitmap;
}

export interface RunReply {
  data: Float32Array<ArrayBuffer>;
  dims: number[];
  /** session.run time inside the worker, ms. */
  ms: number;
}

export type ReplyOf<R extends WorkerRequest> = R extends { kind: 'load' }
  ? LoadReply
  : R extends { kind: 'image' }
    ? ImageReply
    : RunReply;

export type WorkerMessage = { id: number; request: WorkerRequest };
export type WorkerAnswer =
  | { id: number; ok: true; reply: LoadReply | ImageReply | RunReply }
  | { id: number; ok: false; error: { name: string; message: string } };
