import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';

export default ts.config(
  {
    ignores: [
      '**/node_modules/',
      '**/build/',
      '**/dist/',
      '**/.svelte-kit/',
      '**/data/',
      'test-results/',
      'playwright-report/',
      'bench-results/',
      // Mutation testing: Stryker's sandboxes (instrumented copies) and reports.
      '.stryker-tmp/',
      'reports/',
      'sync-server/drizzle/',
      'web/src/lib/paraglide/',
      'training/',
      'models/',
    ],
  },
  js.configs.recommended,
  ...ts.configs.recommended,
  ...svelte.configs.recommended,
  prettier,
  ...svelte.configs.prettier,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: ts.parser } },
    rules: {
      // The app is served at the origin's root (no base path), so plain hrefs are already resolved.
      'svelte/no-navigation-without-resolve': 'off',
    },
  },
);
