import type { Manifest } from '../protocol';

/**
 * Checks an uploaded ONNX graph against its manifest by running it once with onnxruntime-node: the
 * input tensor the manifest names exists and takes the manifest's shape, and the output it names
 * gives one probability per label. Returns what is wrong, in words, or null. onnxruntime-node is
 * loaded only here, when an administrator uploads a model.
 */
export async function graphMismatch(manifest: Manifest, bytes: Uint8Array): Promise<string | null> {
  const ort = await import('onnxruntime-node');
  let session: Awaited<ReturnType<typeof ort.InferenceSession.create>>;
  try {
    session = await ort.InferenceSession.create(bytes);
  } catch (error) {
    return `the file is not an ONNX graph onnxruntime can load (${firstLine(error)})`;
  }
  try {
    const input = manifest.modality === 'image' ? manifest.input.image : manifest.input.tabular;
    const outputName = manifest.output.tensor;
    if (!session.inputNames.includes(input.tensor)) {
      return `the graph has no input "${input.tensor}" (it has ${session.inputNames.join(', ')})`;
    }
    if (!session.outputNames.includes(outputName)) {
      return `the graph has no output "${outputName}" (it has ${session.outputNames.join(', ')})`;
    }
    let feed;
    if (manifest.modality === 'image') {
      const { channels, height, width } = manifest.input.image;
      // Mid-grey: any image model must accept it.
      const pixels = new Float32Array(channels * height * width).fill(128);
      feed = new ort.Tensor('float32', pixels, [1, channels, height, width]);
    } else {
      feed = new ort.Tensor(
        'float32',
        Float32Array.from(manifest.input.tabular.fields, (f) => (f.min + f.max) / 2),
        [1, manifest.input.tabular.fields.length],
      );
    }
    let output;
    try {
      output = (await session.run({ [input.tensor]: feed }))[outputName]!;
    } catch (error) {
      return `the graph does not run on an input of the manifest's shape (${firstLine(error)})`;
    }
    const labels = manifest.output.labels.length;
    if (output.dims.length !== 2 || output.dims[0] !== 1 || output.dims[1] !== labels) {
      return `the output "${outputName}" has shape [${output.dims.join(', ')}]; the manifest's ${labels} labels need [1, ${labels}]`;
    }
    const values = Array.from(output.data as Float32Array);
    const sum = values.reduce((a, b) => a + b, 0);
    if (values.some((v) => !(v >= 0 && v <= 1)) || Math.abs(sum - 1) > 1e-3) {
      return `the output "${outputName}" is not probabilities (${values.map((v) => v.toFixed(3)).join(', ')})`;
    }
    return null;
  } finally {
    await session.release();
  }
}

const firstLine = (error: unknown) =>
  (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 200);
