// Where the test suite finds PostgreSQL and Redis (the machine's own, or CI's).
export const adminDatabaseUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
// Two runs on one PostgreSQL at once (say, two developers' shells) each set their own template name.
export const TEMPLATE_DATABASE = process.env.TEST_TEMPLATE_DATABASE ?? 'tacit_test_template';

export function databaseUrl(name: string): string {
  const u = new URL(adminDatabaseUrl);
  u.pathname = `/${name}`;
  return u.toString();
}
