import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.tap/', 'coverage/', '.data/'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // Tests read JSON responses loosely; production code may not.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The SCIM domain stays free of HTTP, SQL and Redis so it can be tested with plain values.
    files: ['region-node/scim/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['fastify', 'fastify-plugin', '@fastify/*', 'pg', 'ioredis', '**/storage/**', '**/routes/**', '**/plugins/**', '**/services/**'] }],
    },
  },
)
