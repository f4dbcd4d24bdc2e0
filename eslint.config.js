// Lint: TypeScript rules from STYLE.md, and the architecture's import boundaries: each platform SDK,
// the queue library and the database drivers may only be imported by the folder that owns them.
import tseslint from 'typescript-eslint';

const owned = [
  { name: '@slack/*', owner: 'src/chat/slack/' },
  { name: 'discord.js', owner: 'src/chat/discord/' },
  { name: '@anthropic-ai/sdk', owner: 'src/brain/' },
  { name: 'bullmq', owner: 'src/heartbeat/, src/delivery/, src/actions/, src/memory/, src/investigate/' },
  { name: 'pg', owner: 'src/db/' },
  { name: '@electric-sql/pglite', owner: 'src/db/' },
  { name: 'drizzle-orm/node-postgres', owner: 'src/db/' },
  { name: 'drizzle-orm/pglite', owner: 'src/db/' },
  // Parts report through hooks passed in from main.ts; only the metrics module knows the library.
  { name: 'prom-client', owner: 'src/http/metrics.ts' },
];

const restrict = (except) => ({
  'no-restricted-imports': [
    'error',
    {
      patterns: owned
        .filter((o) => !except.includes(o.name))
        .map((o) => ({ group: [o.name, `${o.name}/*`], message: `only ${o.owner} may import ${o.name}` })),
    },
  ],
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'migrations/**', '.tacit/**', 'test-results/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  { files: ['src/**/*.ts'], rules: restrict([]) },
  { files: ['src/chat/slack/**/*.ts'], rules: restrict(['@slack/*']) },
  { files: ['src/chat/discord/**/*.ts'], rules: restrict(['discord.js']) },
  { files: ['src/brain/**/*.ts'], rules: restrict(['@anthropic-ai/sdk']) },
  { files: ['src/heartbeat/**/*.ts', 'src/delivery/**/*.ts', 'src/actions/**/*.ts', 'src/memory/**/*.ts', 'src/investigate/**/*.ts'], rules: restrict(['bullmq']) },
  { files: ['src/db/**/*.ts'], rules: restrict(['pg', '@electric-sql/pglite', 'drizzle-orm/node-postgres', 'drizzle-orm/pglite']) },
  { files: ['src/http/metrics.ts'], rules: restrict(['prom-client']) },
  {
    files: ['src/**/*.ts'],
    // main.ts hands process.env to loadConfig without reading it.
    ignores: ['src/config.ts', 'src/main.ts'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'only src/config.ts reads the environment' }],
    },
  },
);
