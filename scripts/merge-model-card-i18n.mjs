#!/usr/bin/env node
// Copies the translated model-card words of models/i18n/<id>.json into models/<id>/manifest.json
// (its `translations` field), leaving every other field as it is. Run after a training export:
//   node scripts/merge-model-card-i18n.mjs
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const models = fileURLToPath(new URL('../models/', import.meta.url));
for (const file of readdirSync(`${models}i18n`).filter((f) => f.endsWith('.json'))) {
  const { id, translations } = JSON.parse(readFileSync(`${models}i18n/${file}`, 'utf8'));
  const path = `${models}${id}/manifest.json`;
  const manifest = JSON.parse(readFileSync(path, 'utf8'));
  manifest.translations = translations;
  writeFileSync(path, `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(`${id}: ${Object.keys(translations).join(', ')}`);
}
