// The onnxruntime-web builds the inference worker starts, each in its own chunk (dynamic import)
// with its WASM served from this origin, never a CDN. Only worker.ts imports this module.
//
// Two builds, because one binary cannot be both small and fast on the CPU and able to drive WebGPU:
// - 'cpu': `onnxruntime-web/wasm` (ort-wasm-simd-threaded.wasm, 14.2 MB). The fastest CPU build:
//   measured ~2× faster per run than the WebGPU-capable asyncify build, whose instrumentation slows
//   every WASM kernel. Precached, so every device works offline after one visit.
// - 'webgpu': `onnxruntime-web/jspi` (ort-wasm-simd-threaded.jspi.wasm, 16.8 MB): the WebGPU
//   execution provider through JavaScript Promise Integration, 10 MB smaller than the asyncify
//   build. Only started on devices with WebGPU and JSPI; cached when first used (see vite.config).
import cpuWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import webgpuWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.jspi.wasm?url';

export type Ort = typeof import('onnxruntime-web/wasm');
export type Session = import('onnxruntime-web/wasm').InferenceSession;
export type RuntimeKind = 'cpu' | 'webgpu';

const loading = new Map<RuntimeKind, Promise<Ort>>();

function configure(ort: Ort, wasmUrl: string, threads: number): Ort {
  ort.env.wasm.wasmPaths = { wasm: new URL(wasmUrl, self.location.href).href };
  // Without cross-origin isolation there is no SharedArrayBuffer, so no threads.
  ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.max(1, threads) : 1;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = 'error';
  return ort;
}

/**
 * The runtime of that kind, loaded once per worker; `threads` applies to its first session (ORT's
 * thread count is global to a runtime). Its WASM is fetched by the first session creation, so a
 * missing WASM (offline before the WebGPU build was ever cached) fails there, not here.
 */
export function runtime(kind: RuntimeKind, threads: number): Promise<Ort> {
  let started = loading.get(kind);
  if (!started) {
    started =
      kind === 'cpu'
        ? import('onnxruntime-web/wasm').then((ort) => configure(ort, cpuWasmUrl, threads))
        : import('onnxruntime-web/jspi').then((ort) => configure(ort, webgpuWasmUrl, threads));
    loading.set(kind, started);
  }
  return started;
}

/** Why this browser cannot run the WebGPU build, or null when it can. */
export async function webgpuUnavailable(): Promise<string | null> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return 'this browser has no WebGPU';
  // The WebGPU build waits on GPU work through JSPI (WebAssembly.Suspending).
  if (!('Suspending' in WebAssembly)) return 'this browser lacks WebAssembly JSPI';
  try {
    return (await gpu.requestAdapter()) ? null : 'no WebGPU adapter on this device';
  } catch {
    return 'no WebGPU adapter on this device';
  }
}
