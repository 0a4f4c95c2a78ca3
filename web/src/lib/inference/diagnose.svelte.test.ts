import { describe, expect, it, vi } from 'vitest';
import { DiagnoseState } from './diagnose.svelte';
import type { InferenceEngine, LoadedModel } from './engine';
import { parseManifest, type CatalogueEntry, type Manifest } from './manifest';
import { imageManifestJson, tabularManifestJson } from './manifests.test-helper';
import type { ModelStore } from './model-store';

const image = parseManifest(imageManifestJson);
const tabular = parseManifest(tabularManifestJson);
const entryOf = (m: Manifest): CatalogueEntry => ({
  id: m.id,
  version: m.version,
  name: m.name,
  modality: m.modality,
  task: m.task,
  path: `${m.id}/manifest.json`,
  source: 'bundled',
  bytes: m.bytes,
});

function fakeStore(tab: Manifest = tabular): ModelStore {
  return {
    catalogue: async () => [entryOf(image), entryOf(tab)],
    manifest: async (e: CatalogueEntry) => (e.id === image.id ? image : tab),
    isSaved: async () => false,
    modelBytes: async () => new ArrayBuffer(4),
    inputCheck: async () => null,
  } as unknown as ModelStore;
}

/** A "model" whose positive probability is 0.2 + 0.001 × the first input value; NaN counts as 0. */
function fakeEngine() {
  const run = vi.fn(async (model: LoadedModel, data: Float32Array, dims: number[]) => {
    const n = dims[0]!;
    const width = data.length / n;
    const out = new Float32Array(n * 2);
    for (let r = 0; r < n; r++) {
      const p = 0.2 + 0.001 * (Number.isNaN(data[r * width]!) ? 0 : data[r * width]!);
      out.set([1 - p, p], r * 2);
    }
    return { data: out, dims: [n, 2], ms: 1 };
  });
  const engine = {
    prepare: vi.fn(async (manifest: Manifest) => ({
      manifest,
      key: manifest.id,
      provider: 'wasm' as const,
      threads: 1,
      ms: 3,
    })),
    run,
    image: vi.fn(),
  };
  return engine;
}

async function ready(tab: Manifest = tabular) {
  const engine = fakeEngine();
  const state = new DiagnoseState(fakeStore(tab), engine as unknown as InferenceEngine);
  await state.loadCatalogue();
  return { state, engine };
}

describe('DiagnoseState', () => {
  it('lists the catalogue and gets the chosen model ready', async () => {
    const { state, engine } = await ready();
    expect(state.choices.map((c) => c.entry.id)).toEqual(['pneumonia-cxr', 'diabetes-risk']);
    state.select('diabetes-risk');
    await vi.waitFor(() => expect(state.loaded?.provider).toBe('wasm'));
    expect(engine.prepare).toHaveBeenCalledTimes(1);
    expect(state.choices.find((c) => c.entry.id === 'diabetes-risk')?.saved).toBe(true);
  });

  it('flags a missing required field only after a run attempt, and runs once it is given', async () => {
    const { state, engine } = await ready();
    state.select('diabetes-risk');
    state.setText('age', '40');
    expect(state.fieldIssues).toEqual([]);
    await state.run();
    expect(state.fieldIssues.map((i) => i.key)).toEqual(['glucose']);
    expect(engine.run).not.toHaveBeenCalled();

    state.setText('glucose', '150');
    await state.run();
    expect(state.result?.missing).toEqual(['Insulin']);
    expect(state.result?.probabilities[1]).toBeCloseTo(0.35);
    expect(state.result?.finding.positive).toBe(false); // threshold 0.5
    // The explanation: one batched run, one row per field; glucose made the difference.
    expect(engine.run).toHaveBeenCalledTimes(2);
    expect(engine.run.mock.calls[1]![2]).toEqual([3, 3]);
    const explanation = state.result?.explanation;
    expect(explanation?.kind === 'contributions' && explanation.items.map((i) => i.delta)).toEqual([
      expect.closeTo(0.15),
      0,
      0,
    ]);
  });

  it('does not ask a field that does not apply to the patient and feeds its documented value', async () => {
    // The first field applies to women only; for a man the model gets 7 (what the manifest says).
    const json = structuredClone(tabularManifestJson);
    json.input.tabular.fields[0] = { ...json.input.tabular.fields[0]!, required: false };
    Object.assign(json.input.tabular.fields[0]!, { notApplicableValue: 7 });
    const { state, engine } = await ready(
      parseManifest({ ...json, eligibility: { fieldsBySex: { glucose: ['female'] } } }),
    );
    state.select('diabetes-risk');
    state.patientSex = 'male';
    expect(state.notAsked.map((f) => [f.key, f.value])).toEqual([['glucose', 7]]);
    state.setText('glucose', 'not a number'); // hidden: neither checked nor used
    state.setText('age', '65');
    expect(state.fieldIssues).toEqual([]);
    await state.run();
    expect(Array.from(engine.run.mock.calls[0]![1] as Float32Array)).toEqual([7, NaN, 65]);
    expect(state.result?.notAsked.map((f) => f.key)).toEqual(['glucose']);
    expect(state.result?.missing).toEqual(['Insulin']);

    state.patientSex = 'female';
    expect(state.notAsked).toEqual([]);
    expect(state.fieldIssues.map((i) => i.key)).toEqual(['glucose']);
  });

  it('blocks a run while a value is out of range', async () => {
    const { state, engine } = await ready();
    state.select('diabetes-risk');
    state.setText('glucose', '4000');
    state.setText('age', '40');
    expect(state.fieldIssues[0]?.message).toMatch(/outside the plausible range/);
    expect(state.canRun).toBe(false);
    await state.run();
    expect(engine.run).not.toHaveBeenCalled();
  });

  it('runs outside the warnings only once confirmed, keeps them with the result, and asks again for a new one', async () => {
    const { state, engine } = await ready();
    state.select('diabetes-risk');
    await vi.waitFor(() => expect(state.loaded).not.toBeNull());
    state.setText('glucose', '150');
    state.setText('age', '40');
    const outside =
      'This model was made for women and girls only; its result for this patient is uncertain.';
    state.eligibility = [outside];
    expect(state.canRun).toBe(false);
    await state.run();
    expect(engine.run).not.toHaveBeenCalled();

    state.confirmedWarnings = true;
    expect(state.canRun).toBe(true);
    await state.run();
    expect(state.result?.warnings).toEqual([outside]);

    // A new warning (e.g. the input check on another image) needs its own confirmation.
    state.inputIssues = [{ code: 'blank', message: 'This image is almost uniform.' }];
    expect(state.confirmedWarnings).toBe(false);
    expect(state.canRun).toBe(false);
  });

  it('drops the answer of a model the user has switched away from', async () => {
    const { state, engine } = await ready();
    state.select('diabetes-risk');
    state.setText('glucose', '150');
    state.setText('age', '40');
    let release!: () => void;
    engine.run.mockImplementationOnce(
      () =>
        new Promise((resolve) => {
          release = () => resolve({ data: new Float32Array([0.5, 0.5]), dims: [1, 2], ms: 1 });
        }),
    );
    const running = state.run();
    await vi.waitFor(() => expect(release).toBeDefined());
    state.select('pneumonia-cxr');
    release();
    await running;
    expect(state.result).toBeNull();
    expect(state.running).toBe(false);
  });
});
