import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // src/generated/ is GraphQL Code Generator output (`npm run codegen`), checked for drift by a test instead.
  // schema/codegen/: a one-line CommonJS shim that codegen.yml loads (documentTransforms).
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'jest.config.js', 'jest.run.mjs', 'src/generated/', 'schema/codegen/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // A dropped promise is a request that fails silently or an unhandled rejection that kills the process.
      '@typescript-eslint/no-floating-promises': 'error',
      // Unions model states (health, scopes); a new member must be handled everywhere it is switched on.
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      // Rest siblings: `const { micros, ...signal } = row` is how columns are taken off a row.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  // Jest's asymmetric matchers (expect.any, expect.stringContaining) are typed `any`.
  { files: ['test/**/*.ts'], rules: { '@typescript-eslint/no-unsafe-assignment': 'off' } },
  { files: ['eslint.config.mjs'], ...tseslint.configs.disableTypeChecked },
);
