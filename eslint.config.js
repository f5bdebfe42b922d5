// Lint: typescript-eslint's strict set on every package's TypeScript and the tools' scripts, without
// the type-aware rules (tsc -b checks types; the type-aware pass would double the run on 2 cores).
// Formatting is prettier's (.prettierrc.json).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '**/.cache/**', '**/coverage/**', 'bench/results/**', 'charts/**'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // noUncheckedIndexedAccess types every indexed read as possibly undefined; asserting after a
      // length or has() check is the idiom, and tsc's strict null checks cover the rest.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // A leading underscore marks a parameter a signature needs (express's error handler) or a
      // destructured value left out on purpose.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      'prefer-const': ['error', { destructuring: 'all' }],
    },
  },
  {
    files: ['**/*.test.ts', '**/test/**/*.ts'],
    rules: {
      // Tests read untyped JSON from real servers and fixtures.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
);
