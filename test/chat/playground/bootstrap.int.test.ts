// The playground's start-up defaults: the approver policy the sidebar describes and the demo
// Alertmanager, each only where nobody configured their own.
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setApprovers } from '../../../src/actions/admin.js';
import { loadIntegrations, putIntegration } from '../../../src/actions/integrations.js';
import { bootstrapPlayground } from '../../../src/chat/playground/bootstrap.js';
import { PLAYGROUND_WORKSPACE_ID } from '../../../src/chat/playground/types.js';
import { readSettings } from '../../../src/core/settings.js';
import { connectPostgres, type Database } from '../../../src/db/client.js';
import { integrations, workspaces } from '../../../src/db/schema.js';
import { createSecretBox } from '../../../src/db/secret-box.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

describe('playground bootstrap', () => {
  let testDb: TestDatabase;
  let database: Database;
  const box = createSecretBox('bootstrap-test-secret-key-0123456789abcdef');
  const demo = (port: number) => `http://127.0.0.1:${port}/playground/demo-alertmanager`;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    database = connectPostgres({ url: testDb.url });
  });
  afterAll(async () => {
    await database?.close();
    await testDb?.drop();
  });

  const approvers = async () => {
    const [row] = await database.db.select({ settings: workspaces.settings }).from(workspaces).where(eq(workspaces.id, PLAYGROUND_WORKSPACE_ID));
    return readSettings(row?.settings).approvers;
  };
  const alertmanagerUrl = async () => (await loadIntegrations(database.db, box, PLAYGROUND_WORKSPACE_ID)).find((i) => i.kind === 'alertmanager')?.settings.url;

  it('names alice as approver and points Alertmanager at the demo, following its port across starts', async () => {
    const first = await bootstrapPlayground(database.db, box, 'http://127.0.0.1:3000', demo(3000));
    expect(first).toMatchObject({ approversSet: true, demoAlertmanager: true });
    expect(await approvers()).toEqual({ users: ['alice'], groups: [], twoPerson: false });
    expect(await alertmanagerUrl()).toBe(demo(3000));

    const second = await bootstrapPlayground(database.db, box, 'http://127.0.0.1:3001', demo(3001));
    expect(second).toMatchObject({ approversSet: false, demoAlertmanager: true });
    expect(await alertmanagerUrl()).toBe(demo(3001));
  });

  it('never overwrites an approver policy or an Alertmanager someone set, even an empty policy', async () => {
    await setApprovers(database.db, PLAYGROUND_WORKSPACE_ID, { users: [], groups: [], twoPerson: true });
    await putIntegration(database.db, box, PLAYGROUND_WORKSPACE_ID, 'alertmanager', 'default', { settings: { url: 'https://am.example.com' }, secrets: {} });

    const again = await bootstrapPlayground(database.db, box, 'http://127.0.0.1:3002', demo(3002));
    expect(again).toMatchObject({ approversSet: false, demoAlertmanager: false });
    expect(await approvers()).toEqual({ users: [], groups: [], twoPerson: true });
    expect(await alertmanagerUrl()).toBe('https://am.example.com');
    const rows = await database.db.select().from(integrations).where(and(eq(integrations.workspaceId, PLAYGROUND_WORKSPACE_ID), eq(integrations.kind, 'alertmanager')));
    expect(rows).toHaveLength(1);
  });
});
