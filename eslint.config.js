// Lint rules that protect Sentinel's architecture, not just its style:
// - workflows/ stays deterministic: no activity implementations, clients or Node built-ins;
// - policy/ and analysis/ stay pure: no I/O and no clock reads (time comes in the evaluation context);
// - no import cycles and no floating promises anywhere.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

/** Packages that perform I/O or depend on the host; forbidden in deterministic code. */
const ioPackages = [
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/activity',
  '@temporalio/testing',
  '@kubernetes/client-node',
  '@electric-sql/pglite',
  '@grpc/grpc-js',
  'drizzle-orm',
  'drizzle-orm/*',
  'fastify',
  'kafkajs',
  'pg',
  'prom-client',
];

const ioModuleFolders = [
  'activities',
  'api',
  'cli',
  'k8s',
  'store',
  'testbed',
  'workers',
  'temporal',
  'config',
].flatMap((dir) => [`../${dir}`, `../${dir}/*`, `../../${dir}`, `../../${dir}/*`]);

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'dist/**',
      '.scratch/**',
      '.scratch-*',
      'store/migrations/**',
      'charts/**',
      'test/fixtures/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver': { node: { extensions: ['.ts', '.js'] } } },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'Workflow code must be deterministic: no Node built-ins.',
          })),
          patterns: [
            {
              group: ['../activities', '../activities/*'],
              allowTypeImports: true,
              message: 'Workflows call activities through proxyActivities; import them as types only.',
            },
            {
              group: [...ioPackages, ...ioModuleFolders.filter((p) => !p.includes('activities'))],
              message: 'Workflow code must be deterministic: no clients or I/O modules.',
            },
          ],
        },
      ],
    },
  },
  {
    // analysis/ is held to the same purity: workflows call it directly.
    files: ['policy/**/*.ts', 'analysis/**/*.ts'],
    ignores: ['policy/**/*.test.ts', 'policy/**/*.bench.ts', 'analysis/**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'policy/ and analysis/ are pure: no I/O.' })),
          patterns: [
            {
              group: [...ioPackages, '@temporalio/*', ...ioModuleFolders],
              message: 'policy/ and analysis/ are pure: no I/O.',
            },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
          message: 'policy/ and analysis/ take time from their input, never from the clock.',
        },
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'policy/ and analysis/ take time from their input, never from the clock.',
        },
        {
          selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']",
          message: 'policy/ and analysis/ are deterministic: no randomness.',
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
