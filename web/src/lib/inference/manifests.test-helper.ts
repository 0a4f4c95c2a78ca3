// Example manifests for the unit tests (the shapes of DESIGN section 6), not tied to a real model.
import type { ImageManifest, TabularManifest } from './manifest';

export const imageManifestJson = {
  schemaVersion: 1,
  id: 'pneumonia-cxr',
  version: '1.0.0',
  name: 'Pneumonia on a chest X-ray',
  task: 'binary-classification',
  modality: 'image',
  file: 'model.onnx',
  sha256: 'a'.repeat(64),
  bytes: 1234,
  input: { image: { tensor: 'image', layout: 'NCHW', height: 28, width: 28, channels: 1 } },
  output: {
    tensor: 'probabilities',
    labels: ['normal', 'pneumonia'],
    positive: 'pneumonia',
    threshold: 0.4,
  },
  metrics: { split: 'val', n: 524, auc: 0.97, accuracy: 0.9, sensitivity: 0.92, specificity: 0.85 },
  dataset: { name: 'PneumoniaMNIST', license: 'CC BY 4.0', citation: 'Yang et al. 2023' },
  intendedUse: 'Decision support for trained clinicians.',
  limitations: 'Low resolution; not validated prospectively.',
  training: { config: 'training/config.yaml', seed: 1 },
};

export const tabularManifestJson = {
  ...imageManifestJson,
  id: 'diabetes-risk',
  name: 'Diabetes risk',
  modality: 'tabular',
  input: {
    tabular: {
      tensor: 'features',
      fields: [
        { key: 'glucose', label: 'Glucose', unit: 'mg/dL', min: 40, max: 400, required: true },
        { key: 'insulin', label: 'Insulin', unit: 'µU/mL', min: 0, max: 900, required: false },
        { key: 'age', label: 'Age', unit: 'years', min: 10, max: 100, required: true },
      ],
    },
  },
  output: {
    tensor: 'probabilities',
    labels: ['negative', 'positive'],
    positive: 'positive',
    threshold: 0.5,
  },
};

export const imageManifest = imageManifestJson as unknown as ImageManifest;
export const tabularManifest = tabularManifestJson as unknown as TabularManifest;
