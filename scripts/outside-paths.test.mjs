import { describe, expect, it } from 'vitest';
import { outsideReferences, repositoryOutsideReferences } from './outside-paths.mjs';

const root = new URL('..', import.meta.url).pathname.replace(/\/$/, '');

describe('references to paths outside the repository', () => {
  it('no tracked file refers to a path outside the repository', () => {
    const found = repositoryOutsideReferences(root).map(
      ({ file, line, reference }) => `${file}:${line} ${reference}`,
    );
    expect(found).toEqual([]);
  });

  it('flags a sibling folder of the checkout, from any depth', () => {
    expect(outsideReferences(root, 'README.md', 'See [design](../sibling/DESIGN.md).')).toEqual([
      { file: 'README.md', line: 1, reference: '../sibling/DESIGN.md' },
    ]);
    const code = "new URL('../../../../sibling/datasets/x.npz', import.meta.url)";
    expect(outsideReferences(root, 'web/tests/fixtures/xrays.ts', code)).toHaveLength(1);
    expect(
      outsideReferences(root, 'training/config.yaml', 'data_dir: ../sibling/datasets'),
    ).toEqual([{ file: 'training/config.yaml', line: 1, reference: '../sibling/datasets' }]);
  });

  it('flags an absolute path into the folder that holds the checkout', () => {
    const parent = root.slice(0, root.lastIndexOf('/'));
    const found = outsideReferences(root, 'a.md', `read ${parent}/sibling/STACK.md first`);
    expect(found.map((f) => f.reference)).toEqual([`${parent}/sibling/STACK.md`]);
  });

  it('skips a line that says it holds an outside path on purpose', () => {
    const attack = "'../../../../etc/passwd', // outside-paths: allow (a path-traversal attempt)";
    expect(outsideReferences(root, 'sync-server/src/fuzz.test.ts', attack)).toEqual([]);
  });

  it('accepts relative paths that stay inside', () => {
    const code = [
      "import { x } from '../../lib/x';",
      "const repoRoot = path.resolve(here, '../../../..');",
      'see [the training README](../training/README.md)',
    ].join('\n');
    expect(outsideReferences(root, 'web/src/lib/inference/a.ts', code)).toEqual([]);
    expect(outsideReferences(root, 'training/config.yaml', 'data_dir: training/data')).toEqual([]);
  });
});
