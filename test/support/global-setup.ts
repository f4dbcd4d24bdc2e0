// Builds a migrated template database once per run; each test file clones it (fast, isolated).
import pg from 'pg';
import { connectPostgres } from '../../src/db/client.js';
import { TEMPLATE_DATABASE, adminDatabaseUrl, databaseUrl } from './env.js';

export default async function setup(): Promise<void> {
  const admin = new pg.Client({ connectionString: adminDatabaseUrl });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${TEMPLATE_DATABASE} with (force)`);
    await admin.query(`create database ${TEMPLATE_DATABASE}`);
  } finally {
    await admin.end();
  }
  const template = connectPostgres({ url: databaseUrl(TEMPLATE_DATABASE) });
  await template.migrate();
  await template.close();
}
