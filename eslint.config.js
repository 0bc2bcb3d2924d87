// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // scripts/consumer/ is type-checked, and scripts/runners/ (Jest, Vitest and node:test projects of
  // a user) run, against the packed tarball by `npm run check:package`;
  // __tests__/.generated/ holds API clients that __tests__/generated-client.test.ts generates and removes.
  {
    ignores: [
      'dist/',
      'coverage/',
      'docs/',
      '.tmp/',
      'node_modules/',
      'scripts/consumer/',
      'scripts/runners/',
      '__tests__/.generated/',
      'reports/',
      'stryker/',
      '.stryker-tmp/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', '*.mjs', 'tsup.config.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unnecessary-condition': ['error', { allowConstantLoopConditions: true }],
      'no-console': 'error',
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // Abort reasons are `unknown` by definition; they are passed on as they came.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
    },
  },
  {
    // Library code reports through errors, events and the logger option; only the CLI's entry writes.
    files: ['lib/**'],
    ignores: ['lib/cli/main.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'stdout',
          message: 'Library code never writes; report through errors or events.',
        },
        {
          object: 'process',
          property: 'stderr',
          message: 'Library code never writes; report through errors or events.',
        },
        { object: 'process', property: 'exit', message: 'Library code never ends the process.' },
      ],
      // The house rule: no function over about 80 lines (a factory's inner functions count in it).
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // Tests and tools may print and may use the looser patterns tests need.
    files: ['__tests__/**', 'bench/**', 'demo/**', 'scripts/**'],
    rules: {
      'no-console': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-floating-promises': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
  // Plain JavaScript (this file, scripts/*.mjs) is linted without type information, with Node's globals.
  { files: ['**/*.{js,mjs,cjs}'], ...tseslint.configs.disableTypeChecked },
  { files: ['**/*.{js,mjs,cjs}'], languageOptions: { globals: globals.node } },
);
