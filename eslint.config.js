// Lint: typescript-eslint's strict set on every package's TypeScript and the tools' scripts, without
// the type-aware rules (tsc -b checks types; the type-aware pass would double the run on 2 cores).
// Formatting is prettier's (.prettierrc.json).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

// The layering DESIGN.md keeps (issue 15): services → core, no service importing another, shipped code
// never importing testenv. The injector imports the agent's contract (@vaultbridge/agent/contract), the
// one module both sides of the webhook–agent hand-over share; migrate is a converter that reads the
// services' own parsers, so only the testenv rule applies to it.
const services = ['agent', 'injector', 'csi-provider', 'operator', 'migrate'];
const noTestenv = {
  regex: '^@vaultbridge/testenv(/|$)',
  message: 'shipped code never imports testenv: it is for tests, benchmarks and the demo',
};
/** The rule for `pkg`'s shipped sources: no testenv, and none of `forbidden` (a regular expression). */
const layering = (pkg, forbidden) => ({
  files: [`packages/${pkg}/src/**/*.ts`],
  ignores: ['**/*.test.ts'],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          noTestenv,
          ...(forbidden === undefined
            ? []
            : [
                {
                  regex: forbidden,
                  message:
                    'dependencies go services → core, never service → service: move what both need into @vaultbridge/core',
                },
              ]),
        ],
      },
    ],
  },
});
/** Every service but `pkg`, as the start of an import path. */
const others = (pkg) => `^@vaultbridge/(${services.filter((name) => name !== pkg).join('|')})(/|$)`;

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
  layering('core', others('core')),
  layering('agent', others('agent')),
  // The contract is the agent's and the webhook's alike; the rest of the agent is not the injector's.
  layering('injector', '^@vaultbridge/(csi-provider|operator|migrate)(/|$)|^@vaultbridge/agent(?!/contract$)'),
  layering('csi-provider', others('csi-provider')),
  layering('operator', others('operator')),
  layering('migrate', undefined),
  {
    files: ['**/*.test.ts', '**/test/**/*.ts'],
    rules: {
      // Tests read untyped JSON from real servers and fixtures.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
);
