// `t`: the messages (`m` names a manifest here).
import { m as t } from '$lib/paraglide/messages';
import { localizedFields } from './model-text';
import { inputIssueMessage } from '$lib/i18n/labels';
// The Diagnose screen's state: the model catalogue, the chosen model and its session, the input,
// and the result with its explanation. Everything model-specific comes from the manifest.
import { getEngine, type InferenceEngine, type LoadedModel } from './engine';
import {
  contributions,
  maskedRows,
  occlusionBatch,
  occlusionHeatmap,
  occlusionPatches,
  type Contribution,
} from './explain';
import { checkInput, type InputCheckSpec, type InputIssue } from './input-check';
import type { CatalogueEntry, Manifest } from './manifest';
import { ModelStore, type Progress } from './model-store';
import { findingOf, readProbabilities, type Finding } from './postprocess';
import type { ImageSpec } from './preprocess';
import {
  checkTabular,
  encodeTabular,
  fieldsNotAsked,
  type FieldIssue,
  type NotAsked,
} from './tabular';

export interface ModelChoice {
  entry: CatalogueEntry;
  manifest: Manifest | null;
  /** Why the model cannot be used (invalid or unreachable description). */
  error: string | null;
  /** Its file is saved on this device (works offline). */
  saved: boolean;
}

export interface ImageSelection {
  name: string;
  /** The file as chosen: kept with the patient's record when the result is saved. */
  file: Blob;
  width: number;
  height: number;
  preview: ImageBitmap;
  /** Exactly what the model gets (NCHW, batch of one). */
  tensor: Float32Array<ArrayBuffer>;
  spec: ImageSpec;
}

export type Explanation =
  | {
      kind: 'occlusion';
      input: Float32Array;
      spec: ImageSpec;
      map: Float32Array;
      maxAbs: number;
      ms: number;
    }
  | { kind: 'contributions'; items: Contribution[]; ms: number };

export interface DiagnosisResult {
  manifest: Manifest;
  probabilities: number[];
  finding: Finding;
  /** Labels of the optional fields that were not given. */
  missing: string[];
  provider: LoadedModel['provider'];
  threads: number;
  runMs: number;
  explanation: Explanation | null;
  explanationError: string | null;
  /** Why the result may not hold (patient outside the model's eligibility, unusual image): kept with it. */
  warnings: string[];
  /** Fields not asked for this patient and the value the model got instead (saved with the inputs). */
  notAsked: NotAsked[];
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : t.dx_run_failed());

export class DiagnoseState {
  choices = $state.raw<ModelChoice[]>([]);
  catalogueStatus = $state<'loading' | 'ready' | 'error'>('loading');
  catalogueError = $state<string | null>(null);

  selectedId = $state<string | null>(null);
  selected = $derived(this.choices.find((c) => c.entry.id === this.selectedId) ?? null);
  manifest = $derived(this.selected?.manifest ?? null);

  /** Download and session creation of the selected model. */
  loading = $state(false);
  progress = $state.raw<Progress | null>(null);
  loaded = $state.raw<LoadedModel | null>(null);
  loadError = $state<string | null>(null);

  image = $state.raw<ImageSelection | null>(null);
  imageBusy = $state(false);
  imageError = $state<string | null>(null);

  texts = $state<Record<string, string>>({});
  /** Set by a run attempt: required fields are flagged only after one. */
  attempted = $state(false);

  /** The input check of the selected image model (null: the model has none, or not loaded yet). */
  checkSpec = $state.raw<InputCheckSpec | null>(null);
  /** What the input check found in the chosen image. */
  inputIssues = $state.raw<InputIssue[]>([]);
  /** Why this patient is outside what the model was made for (set by the page). */
  eligibility = $state.raw<string[]>([]);
  /** The patient's sex when started from a patient (set by the page): fields that do not apply are not asked. */
  patientSex = $state<string | null>(null);
  notAsked = $derived.by((): NotAsked[] => {
    const m = this.manifest;
    if (m?.modality !== 'tabular') return [];
    return fieldsNotAsked(m.input.tabular.fields, m.eligibility, this.patientSex);
  });
  warnings = $derived([...this.eligibility, ...this.inputIssues.map(inputIssueMessage)]);
  /** The warnings the clinician confirmed running despite: a new one needs a new confirmation. */
  confirmedFor = $state.raw<string[]>([]);
  get confirmedWarnings(): boolean {
    return this.warnings.every((w) => this.confirmedFor.includes(w));
  }
  set confirmedWarnings(confirmed: boolean) {
    this.confirmedFor = confirmed ? [...this.warnings] : [];
  }

  running = $state(false);
  explaining = $state(false);
  runError = $state<string | null>(null);
  result = $state.raw<DiagnosisResult | null>(null);

  /** Problems in the form: wrong numbers and out-of-range values at once, empty required ones after a run attempt. */
  fieldIssues = $derived.by((): FieldIssue[] => {
    const m = this.manifest;
    if (m?.modality !== 'tabular') return [];
    const { issues } = checkTabular(
      localizedFields(m, m.input.tabular.fields),
      this.texts,
      this.notAsked,
    );
    if (this.attempted) return issues;
    return issues.filter((i) => (this.texts[i.key] ?? '').trim() !== '');
  });

  canRun = $derived(
    !!this.manifest &&
      !this.running &&
      !this.loadError &&
      this.confirmedWarnings &&
      (this.manifest.modality === 'tabular' ? this.fieldIssues.length === 0 : !!this.image),
  );

  #store: ModelStore;
  #engine: InferenceEngine;
  /** Incremented on every change of model or input, so a late answer for an old one is dropped. */
  #generation = 0;

  constructor(store = new ModelStore(), engine = getEngine()) {
    this.#store = store;
    this.#engine = engine;
  }

  async loadCatalogue() {
    this.catalogueStatus = 'loading';
    try {
      const entries = await this.#store.catalogue();
      this.choices = await Promise.all(entries.map((entry) => this.#choice(entry)));
      this.catalogueStatus = 'ready';
    } catch (error) {
      this.catalogueError = messageOf(error);
      this.catalogueStatus = 'error';
    }
  }

  async #choice(entry: CatalogueEntry): Promise<ModelChoice> {
    try {
      const manifest = await this.#store.manifest(entry);
      return { entry, manifest, error: null, saved: await this.#store.isSaved(manifest) };
    } catch (error) {
      return { entry, manifest: null, error: messageOf(error), saved: false };
    }
  }

  /** Drops whatever is in flight for the previous model or input: its answer will be ignored. */
  #newGeneration(): number {
    this.running = false;
    this.explaining = false;
    this.imageBusy = false;
    return ++this.#generation;
  }

  select(id: string) {
    if (id === this.selectedId) return;
    this.#newGeneration();
    this.selectedId = id;
    this.loaded = null;
    this.loadError = null;
    this.progress = null;
    this.image = null;
    this.imageError = null;
    this.texts = {};
    this.attempted = false;
    this.result = null;
    this.runError = null;
    this.checkSpec = null;
    this.inputIssues = [];
    this.confirmedFor = [];
    void this.prepare().catch(() => undefined);
    const choice = this.selected;
    if (choice?.manifest) {
      void this.#store
        .inputCheck(choice.manifest, choice.entry.source)
        .then((spec) => {
          if (this.selectedId !== id) return;
          this.checkSpec = spec;
          // An image chosen before the check's parameters arrived is checked now.
          const image = this.image;
          if (spec && image)
            this.inputIssues = checkInput(spec, grayPixels(image.tensor, image.spec)).issues;
        })
        .catch(() => undefined); // no check: nothing to warn about
    }
  }

  /** Gets the model file (verified, saved for offline) and its session ready. */
  async prepare(): Promise<LoadedModel> {
    const choice = this.selected;
    const manifest = choice?.manifest;
    if (!choice || !manifest) throw new Error(t.dx_choose_model_first());
    const id = choice.entry.id;
    const current = () => this.selectedId === id;
    this.loading = true;
    this.loadError = null;
    try {
      const loaded = await this.#engine.prepare(manifest, () =>
        this.#store.modelBytes(
          manifest,
          (p) => {
            if (current()) this.progress = p;
          },
          choice.entry.source,
        ),
      );
      this.choices = this.choices.map((c) => (c.entry.id === id ? { ...c, saved: true } : c));
      if (current()) this.loaded = loaded;
      return loaded;
    } catch (error) {
      if (current()) this.loadError = messageOf(error);
      throw error;
    } finally {
      if (current()) this.loading = false;
    }
  }

  async chooseImage(file: File | undefined) {
    const manifest = this.manifest;
    if (!file || manifest?.modality !== 'image') return;
    const generation = this.#newGeneration();
    this.image?.preview.close();
    this.image = null;
    this.result = null;
    this.runError = null;
    this.imageError = null;
    this.imageBusy = true;
    try {
      const spec = manifest.input.image;
      const reply = await this.#engine.image(file, spec);
      if (generation !== this.#generation) return reply.preview.close();
      this.image = { name: file.name, file, ...reply, spec };
      this.inputIssues = this.checkSpec
        ? checkInput(this.checkSpec, grayPixels(reply.tensor, spec)).issues
        : [];
    } catch (error) {
      if (generation === this.#generation) this.imageError = messageOf(error);
    } finally {
      if (generation === this.#generation) this.imageBusy = false;
    }
  }

  setText(key: string, value: string) {
    this.texts[key] = value;
    this.result = null;
  }

  async run() {
    const manifest = this.manifest;
    if (!manifest) return;
    this.attempted = true;
    if (!this.canRun) return;
    const generation = this.#newGeneration();
    this.running = true;
    this.runError = null;
    this.result = null;
    try {
      const model = await this.prepare();
      const input = this.#input(manifest);
      const reply = await this.#engine.run(model, input.data.slice(), input.dims);
      const [probabilities] = readProbabilities(reply.data, reply.dims, manifest.output.labels);
      if (generation !== this.#generation || !probabilities) return;
      this.result = {
        manifest,
        probabilities,
        finding: findingOf(manifest, probabilities),
        missing: input.missing,
        provider: model.provider,
        threads: model.threads,
        runMs: reply.ms,
        explanation: null,
        explanationError: null,
        warnings: this.warnings,
        notAsked: manifest.modality === 'tabular' ? this.notAsked : [],
      };
      this.running = false;
      await this.#explain(model, input.data, probabilities, generation);
    } catch (error) {
      // A model that failed to load already says so (loadError).
      if (generation === this.#generation && !this.loadError) this.runError = messageOf(error);
    } finally {
      if (generation === this.#generation) this.running = false;
    }
  }

  #input(manifest: Manifest) {
    if (manifest.modality === 'image') {
      const image = this.image;
      if (!image) throw new Error(t.dx_image_first());
      const { channels, height, width } = image.spec;
      return { data: image.tensor, dims: [1, channels, height, width], missing: [] };
    }
    const fields = localizedFields(manifest, manifest.input.tabular.fields);
    const { values } = checkTabular(fields, this.texts, this.notAsked);
    const { row, missing } = encodeTabular(fields, values);
    return { data: row, dims: [1, fields.length], missing };
  }

  /** The explanation, in one batched run; a failure here leaves the result standing. */
  async #explain(
    model: LoadedModel,
    input: Float32Array<ArrayBuffer>,
    probabilities: number[],
    generation: number,
  ) {
    const manifest = model.manifest;
    const positive = manifest.output.labels.indexOf(manifest.output.positive);
    const base = probabilities[positive]!;
    this.explaining = true;
    try {
      let explanation: Explanation;
      if (manifest.modality === 'image') {
        const spec = manifest.input.image;
        const patches = occlusionPatches(spec);
        const { batch, dims } = occlusionBatch(input, spec, patches);
        const reply = await this.#engine.run(model, batch as Float32Array<ArrayBuffer>, dims);
        const rows = readProbabilities(reply.data, reply.dims, manifest.output.labels);
        const heat = occlusionHeatmap(
          base,
          rows.map((r) => r[positive]!),
          patches,
          spec,
        );
        explanation = { kind: 'occlusion', input, spec, ...heat, ms: reply.ms };
      } else {
        const { batch, dims } = maskedRows(input);
        const reply = await this.#engine.run(model, batch as Float32Array<ArrayBuffer>, dims);
        const rows = readProbabilities(reply.data, reply.dims, manifest.output.labels);
        const fields = manifest.input.tabular.fields;
        const items = contributions(
          fields,
          input,
          base,
          rows.map((r) => r[positive]!),
        );
        explanation = { kind: 'contributions', items, ms: reply.ms };
      }
      if (generation === this.#generation && this.result)
        this.result = { ...this.result, explanation };
    } catch (error) {
      if (generation === this.#generation && this.result) {
        this.result = { ...this.result, explanationError: messageOf(error) };
      }
    } finally {
      if (generation === this.#generation) this.explaining = false;
    }
  }
}

/** The model input as one grayscale plane (the channels averaged), for the input check. */
function grayPixels(tensor: Float32Array, spec: ImageSpec): Float32Array {
  const n = spec.width * spec.height;
  if (spec.channels === 1) return tensor.subarray(0, n);
  const gray = new Float32Array(n);
  for (let c = 0; c < spec.channels; c++) {
    for (let i = 0; i < n; i++) gray[i] = gray[i]! + tensor[c * n + i]! / spec.channels;
  }
  return gray;
}
