// Is this image something the model can read? Checks run on the model's own input (after crop,
// grayscale and resize) before a run, with the parameters training wrote beside the model
// (models/<id>/input-check.json, training/input_check.py): blank, under- or over-exposed, or far
// from the training images. They warn; the clinician may still run the model, and the warning is
// kept with the result. Pure functions.
import { z } from 'zod';

const Numbers = z.array(z.number());

export const InputCheckSpec = z.object({
  schemaVersion: z.literal(1),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  standardize: z.literal('per-image'),
  mean: Numbers,
  components: z.array(Numbers).min(1),
  variances: Numbers,
  residualScale: z.number().positive(),
  threshold: z.number().positive(),
  uniformStdMax: z.number().nonnegative(),
  exposure: z.object({
    meanMin: z.number(),
    meanMax: z.number(),
    clippedShareMax: z.number().min(0).max(1),
  }),
  calibration: z.object({
    quantile: z.number(),
    components: z.number().int(),
    trainFalseAlarm: z.number(),
    valFalseAlarm: z.number(),
    nTrain: z.number().int(),
    nVal: z.number().int(),
  }),
});
export type InputCheckSpec = z.infer<typeof InputCheckSpec>;

/** Parses input-check.json, checking that its arrays agree with the image size. */
export function parseInputCheck(json: unknown): InputCheckSpec {
  const spec = InputCheckSpec.parse(json);
  const n = spec.width * spec.height;
  if (
    spec.mean.length !== n ||
    spec.components.some((c) => c.length !== n) ||
    spec.variances.length !== spec.components.length
  ) {
    throw new Error(`input check: arrays do not match a ${spec.width}×${spec.height} image`);
  }
  return spec;
}

export type InputIssueCode = 'blank' | 'underexposed' | 'overexposed' | 'unusual';

export interface InputIssue {
  code: InputIssueCode;
  /** For the clinician. */
  message: string;
}

export interface InputCheckResult {
  /** Distance from the training images (training's threshold is `threshold`); null when blank. */
  score: number | null;
  threshold: number;
  issues: InputIssue[];
}

export const INPUT_ISSUE_MESSAGES: Record<InputIssueCode, string> = {
  blank:
    'This image is almost uniform: there is nothing in it for the model to read (is it a photo of an X-ray?).',
  underexposed: 'This image is very dark: details the model needs may be lost.',
  overexposed: 'This image is very bright: details the model needs may be washed out.',
  unusual:
    'This does not look like the chest X-rays the model was trained on: its result may be meaningless.',
};

const issue = (code: InputIssueCode): InputIssue => ({ code, message: INPUT_ISSUE_MESSAGES[code] });

/**
 * Checks one image as the model sees it: `pixels` are the model input's values 0–255, row-major,
 * one channel (average the channels of a colour input first).
 */
export function checkInput(spec: InputCheckSpec, pixels: ArrayLike<number>): InputCheckResult {
  const n = spec.width * spec.height;
  if (pixels.length !== n) throw new RangeError(`expected ${n} pixels, got ${pixels.length}`);
  let sum = 0;
  let clipped = 0;
  for (let i = 0; i < n; i++) {
    const v = pixels[i]!;
    sum += v;
    if (v <= 5 || v >= 250) clipped++;
  }
  const mean = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += (pixels[i]! - mean) ** 2;
  const sd = Math.sqrt(squares / n);

  const issues: InputIssue[] = [];
  if (sd <= spec.uniformStdMax) {
    return { score: null, threshold: spec.threshold, issues: [issue('blank')] };
  }
  const darkOrBright = clipped / n > spec.exposure.clippedShareMax;
  if (mean < spec.exposure.meanMin || (darkOrBright && mean < 128))
    issues.push(issue('underexposed'));
  else if (mean > spec.exposure.meanMax || (darkOrBright && mean >= 128))
    issues.push(issue('overexposed'));

  const score = distance(spec, pixels, mean, sd);
  if (score > spec.threshold) issues.push(issue('unusual'));
  return { score, threshold: spec.threshold, issues };
}

/** Mahalanobis distance per component in the PCA basis plus the relative residual outside it. */
function distance(spec: InputCheckSpec, pixels: ArrayLike<number>, mean: number, sd: number) {
  const n = spec.mean.length;
  const centred = new Float64Array(n);
  for (let i = 0; i < n; i++) centred[i] = (pixels[i]! - mean) / Math.max(sd, 1e-6) - spec.mean[i]!;
  let mahalanobis = 0;
  const residual = Float64Array.from(centred);
  spec.components.forEach((component, k) => {
    let z = 0;
    for (let i = 0; i < n; i++) z += centred[i]! * component[i]!;
    mahalanobis += (z * z) / spec.variances[k]!;
    for (let i = 0; i < n; i++) residual[i] = residual[i]! - z * component[i]!;
  });
  let residualSquares = 0;
  for (let i = 0; i < n; i++) residualSquares += residual[i]! ** 2;
  return mahalanobis / spec.components.length + residualSquares / spec.residualScale;
}
