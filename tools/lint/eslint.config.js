// ESLint for mss-sidecar (`make lint`, run by `make test`). Run from the repository root:
// tools/lint/node_modules/.bin/eslint -c tools/lint/eslint.config.js .
// Its packages live in tools/lint/ with their own lockfile: typescript-eslint parses with
// the TypeScript JS API (typescript < 6.1), which TypeScript 7 (the product's compiler,
// ../../package.json) no longer ships.
import fs from 'node:fs';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX, createNodeResolver } from 'eslint-plugin-import-x';

const boundaries = JSON.parse(fs.readFileSync(new URL('./boundaries.json', import.meta.url), 'utf8'));
// The rule takes { target, from, except, message }; `name` and `why` become the message.
const zones = boundaries.zones.map(({ name, why, ...zone }) => ({ ...zone, message: `[${name}] ${why}` }));
const sandboxOnly = boundaries.sandboxOnlyPackages.packages.map((name) => ({ name, message: `[sandbox-only-packages] ${boundaries.sandboxOnlyPackages.why}` }));

// Which files: the TypeScript of src/, test/, bench/, scripts/ and this file.
export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'node_modules/**', 'tools/lint/node_modules/**', 'debian/**', '.sandbox/**', 'tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      // import-x parses the imported modules itself (no-cycle follows them): with the TS parser.
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/extensions': ['.ts', '.js'],
      // ESM sources name the compiled file (`./x.js`): resolve it to the `.ts` beside it.
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.json', '.node'], extensionAlias: { '.js': ['.ts', '.js'] } })],
    },
    rules: {
      // A cycle makes load order matter and hides which part depends on which.
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      // no-restricted-paths skips what it cannot resolve: every relative import must resolve.
      'import-x/no-unresolved': ['error', { ignore: ['^[^.]'] }],
      'import-x/no-restricted-paths': ['error', { basePath: process.cwd(), zones }],
      // `_name` says "deliberately unused" (a destructured field left out, a callback's argument).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // `const self = this` for the methods of an object literal handed to a library.
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['self'] }],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: sandboxOnly }] },
  },
  {
    files: ['**/*.js'],
    languageOptions: { globals: { process: 'readonly', URL: 'readonly', console: 'readonly' } },
  },
);
