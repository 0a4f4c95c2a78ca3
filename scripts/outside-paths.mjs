// Finds references in tracked files to paths outside the repository (a folder beside the
// checkout, or an absolute path into the checkout's parent): a clone must run,
// test and read its docs with nothing beside it. Used by scripts/outside-paths.test.mjs.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

const BINARY = /\.(npz|npy|png|jpe?g|gif|ico|webp|onnx|wasm|pdf|zip|gz|br|sqlite)$/i;

// pnpm's lockfile resolves `link:` paths from each importer's folder, which we do not model; this
// checker's own test holds outside paths on purpose, as examples.
const SKIPPED = new Set(['pnpm-lock.yaml', 'scripts/outside-paths.test.mjs']);

// Files whose relative paths mean "from the repository root", not "from this file's folder".
const ROOT_RELATIVE = new Set(['training/config.yaml']);

const ALLOW_MARKER = 'outside-paths: allow';

// A run of ../ segments and what follows, up to a character that ends a path in code or prose.
const RELATIVE_REFERENCE = /(?<![\w.])((?:\.\.\/)+[^\s'"`)<>\][,;:*]*)/g;

/** `git ls-files` of the repository at `root`. */
export function trackedFiles(root) {
  return execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' })
    .split('\0')
    .filter(Boolean);
}

const inside = (root, target) => {
  const rel = relative(root, target);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
};

/**
 * Every reference in `text` (the content of `file`, a path relative to `root`) that leaves the
 * repository, as `{ file, line, reference }`.
 */
export function outsideReferences(root, file, text) {
  const found = [];
  const base = ROOT_RELATIVE.has(file) ? root : dirname(join(root, file));
  const parent = dirname(resolve(root)) + sep;
  text.split('\n').forEach((content, index) => {
    // A line may say it holds an outside path on purpose (e.g. a path-traversal attack in a test).
    if (content.includes(ALLOW_MARKER)) return;
    for (const match of content.matchAll(RELATIVE_REFERENCE)) {
      const reference = match[1];
      const target = resolve(base, reference);
      // In docs a relative path is a link the reader follows: it must also exist (a doc that says
      // ../notes/X from a subfolder meant a folder beside the checkout).
      if (!inside(root, target) || (file.endsWith('.md') && !existsSync(target))) {
        found.push({ file, line: index + 1, reference });
      }
    }
    // An absolute path into the folder that holds the checkout (a sibling of the clone).
    let at = content.indexOf(parent);
    while (at !== -1) {
      const reference = content.slice(at).split(/[\s'"`)<>\]]/)[0];
      if (!inside(root, reference)) found.push({ file, line: index + 1, reference });
      at = content.indexOf(parent, at + parent.length);
    }
  });
  return found;
}

/** Every outside reference in the repository's tracked text files. */
export function repositoryOutsideReferences(root) {
  return trackedFiles(root)
    .filter((file) => !SKIPPED.has(file) && !BINARY.test(file))
    .flatMap((file) => {
      const bytes = readFileSync(join(root, file));
      if (bytes.includes(0)) return [];
      return outsideReferences(root, file, bytes.toString('utf8'));
    });
}
