import { z } from 'zod';

/**
 * The model manifest contract (docs/architecture.md §6): what training writes beside each ONNX
 * graph, what the server checks an uploaded model against, and what the app renders forms and
 * results from. Unknown fields are allowed and dropped.
 */

const Eligibility = z.object({
  /** Ages the training data covered, in years (either bound may be missing). */
  ageYears: z
    .object({ min: z.number().min(0).optional(), max: z.number().min(0).optional() })
    .optional(),
  /** Sexes the training data covered; missing = any. */
  sex: z
    .array(z.enum(['female', 'male', 'other', 'unknown']))
    .min(1)
    .optional(),
  /** What kind of image it expects, in words (e.g. "frontal chest X-ray of a child"). */
  imageKind: z.string().min(1).optional(),
  /** Input fields that apply to one sex only (e.g. pregnancies): not asked for the other. */
  fieldsBySex: z
    .record(z.string(), z.array(z.enum(['female', 'male', 'other', 'unknown'])))
    .optional(),
});
export type Eligibility = z.infer<typeof Eligibility>;

const TensorName = z.string().min(1);

export const ImageInput = z.object({
  tensor: TensorName,
  layout: z.literal('NCHW'),
  height: z.number().int().positive().max(4096),
  width: z.number().int().positive().max(4096),
  channels: z.union([z.literal(1), z.literal(3)]),
  /** File beside the model with the input check's parameters (web/src/lib/inference/input-check.ts). */
  check: z
    .string()
    .regex(/^[\w.-]+\.json$/, 'must be a JSON file name inside the model folder')
    .optional(),
});
export type ImageInput = z.infer<typeof ImageInput>;

export const TabularField = z
  .object({
    key: z.string().min(1),
    label: z.string().min(1),
    unit: z.string().default(''),
    min: z.number(),
    max: z.number(),
    required: z.boolean(),
    /**
     * What the model gets when the field does not apply to the patient (eligibility.fieldsBySex),
     * e.g. 0 pregnancies for a man; without it such a field is sent as missing (NaN).
     */
    notApplicableValue: z.number().optional(),
  })
  .refine((f) => f.min <= f.max, { message: 'min must not be above max' });
export type TabularField = z.infer<typeof TabularField>;

export const TabularInput = z.object({
  tensor: TensorName,
  fields: z
    .array(TabularField)
    .min(1)
    .refine((fields) => new Set(fields.map((f) => f.key)).size === fields.length, {
      message: 'field keys must be unique',
    }),
});
export type TabularInput = z.infer<typeof TabularInput>;

const Output = z
  .object({
    tensor: TensorName,
    labels: z.array(z.string().min(1)).min(2),
    positive: z.string().min(1),
    threshold: z.number().min(0).max(1),
  })
  .refine((o) => o.labels.includes(o.positive), {
    message: 'positive must be one of the labels',
    path: ['positive'],
  });

const Metrics = z
  .object({
    split: z.string(),
    n: z.number().int().nonnegative(),
    auc: z.number().optional(),
    accuracy: z.number().optional(),
    sensitivity: z.number().optional(),
    specificity: z.number().optional(),
  })
  .catchall(z.unknown());

/**
 * The model card's user-facing words in one more language. Every field is optional: what is missing
 * is shown in English (the manifest's own fields).
 */
export const ManifestTranslation = z.object({
  name: z.string().min(1).optional(),
  intendedUse: z.string().min(1).optional(),
  limitations: z.string().min(1).optional(),
  /** Output label (as in output.labels) → how it reads in this language. */
  labels: z.record(z.string(), z.string().min(1)).optional(),
  /** Tabular field key → its label in this language. */
  fields: z.record(z.string(), z.string().min(1)).optional(),
  /**
   * Tabular field key → its unit in this language ("years" → "ans"); symbols the language writes
   * alike (mg/dL) are listed too, so a missing one is a gap a test finds, not an English word shown.
   */
  units: z.record(z.string(), z.string().min(1)).optional(),
  /** metrics.split (the validation set's name, shown with the figures) in this language. */
  split: z.string().min(1).optional(),
  /** eligibility.imageKind in this language. */
  imageKind: z.string().min(1).optional(),
});
export type ManifestTranslation = z.infer<typeof ManifestTranslation>;

/** BCP 47 language (and optional region) tags: "fr", "pt", "pt-BR". */
const LanguageTag = z
  .string()
  .regex(/^[a-z]{2,3}(-[A-Z]{2})?$/, 'must be a language tag like fr or pt-BR');

const common = {
  schemaVersion: z.literal(1),
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lower-case letters, digits and dashes'),
  version: z.string().min(1),
  name: z.string().min(1),
  task: z.literal('binary-classification'),
  file: z
    .string()
    .regex(/^[\w.-]+\.onnx$/, 'must be a file name ending in .onnx, inside the model folder'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits'),
  bytes: z.number().int().positive(),
  output: Output,
  metrics: Metrics,
  dataset: z.object({ name: z.string(), license: z.string(), citation: z.string() }).partial(),
  intendedUse: z.string().min(1),
  limitations: z.string().min(1),
  training: z.object({ config: z.string(), seed: z.number() }).partial().optional(),
  /** The share of positives in the training data: the prior the probabilities are calibrated to. */
  prevalence: z.number().gt(0).lt(1).optional(),
  /** Who and what the model was made for; the app asks before running outside it. */
  eligibility: Eligibility.optional(),
  /** The card's words in other languages, by language tag; English (the fields above) otherwise. */
  translations: z.record(LanguageTag, ManifestTranslation).optional(),
};

export const Manifest = z.discriminatedUnion('modality', [
  z.object({ ...common, modality: z.literal('image'), input: z.object({ image: ImageInput }) }),
  z.object({
    ...common,
    modality: z.literal('tabular'),
    input: z.object({ tabular: TabularInput }),
  }),
]);
export type Manifest = z.infer<typeof Manifest>;
export type ImageManifest = Extract<Manifest, { modality: 'image' }>;
export type TabularManifest = Extract<Manifest, { modality: 'tabular' }>;
