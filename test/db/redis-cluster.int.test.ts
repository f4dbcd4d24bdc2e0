// Tacit on a Redis Cluster: three masters started by the test, Tacit connected through
// REDIS_CLUSTER_NODES, real BullMQ on it. An alert becomes its card in the playground channel, a
// silence asked for in its thread is approved and runs; the queues live in the one slot of
// `{prefix}` and each workspace's heartbeat state in its own.
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVE_ACTION_ID } from '../../src/core/approval-card.js';
import { restoreMarker } from '../../src/heartbeat/restore.js';
import { BEAT_PARTITIONS, beatPartition, beatsKey, workspaceKey } from '../../src/heartbeat/beats.js';
import { api, approvalIdOf, click } from '../actions/support.js';
import { startFakeAlertmanager, type FakeAlertmanager } from '../fakes/alertmanager.js';
import { blockTexts, channelMessages, fixture, postAlert, say } from '../support/playground.js';
import { findRedisTools, startLocalCluster, type LocalCluster } from '../support/redis-cluster.js';
import { startTestTacit, type TestTacit } from '../support/tacit.js';
import { waitFor } from '../support/wait.js';

const tools = findRedisTools();
if (!tools) console.warn('redis-cluster.int.test.ts skipped: no redis-server and redis-cli on PATH or in /usr/bin (install redis-server to run it)');

describe.skipIf(!tools)('Tacit on a three-master Redis Cluster', () => {
  let cluster: LocalCluster;
  let tacit: TestTacit;
  let client: Cluster;
  let alertmanager: FakeAlertmanager;

  beforeAll(async () => {
    if (!tools) return;
    cluster = await startLocalCluster(tools);
    alertmanager = await startFakeAlertmanager();
    tacit = await startTestTacit({ env: { REDIS_URL: '', REDIS_CLUSTER_NODES: cluster.nodes, TACIT_HEARTBEAT_INTERVAL_MS: '500' } });
    expect((await api(tacit.url, 'PUT', '/api/workspaces/playground:local/integrations/alertmanager/default', { settings: { url: alertmanager.url } })).status).toBe(200);
    expect((await api(tacit.url, 'PUT', '/api/workspaces/playground:local/approvers', { users: ['alice'] })).status).toBe(200);
    client = new Cluster(cluster.ports.map((port) => ({ host: '127.0.0.1', port })));
  }, 60_000);
  afterAll(async () => {
    client?.disconnect();
    await tacit?.cleanup();
    await alertmanager?.close();
    await cluster?.stop();
  });

  it('turns an alert into its card, and an approved silence into its run, through BullMQ on the cluster', { timeout: 60_000 }, async () => {
    expect((await fetch(`${tacit.url}/readyz`)).status).toBe(200);
    const source = tacit.playgroundSource;
    if (!source) throw new Error('the playground source is missing');
    const res = await postAlert(tacit.url, source.id, source.token, fixture('alertmanager/firing.json'));
    expect(res.status).toBe(200);
    const card = await waitFor(async () => (await channelMessages(tacit.url)).find((m) => m.author.isBot && !m.threadId && /crash looping/i.test(blockTexts(m))), {
      what: 'the incident card', timeoutMs: 30_000,
    });
    expect(card).toBeDefined();
    // Its summary follows in the thread: delivery ordering works across the cluster too.
    await waitFor(async () => (await channelMessages(tacit.url)).some((m) => m.threadId === card.id), { what: 'the summary in the thread', timeoutMs: 30_000 });

    // A mention (the conversations queue) asks for a silence; its approval runs it (the actions queue).
    await say(tacit.url, 'bob', '@tacit silence this for 30m', card.id);
    const asked = await waitFor(
      async () => (await channelMessages(tacit.url)).find((m) => m.author.isBot && m.threadId === card.id && m.text.startsWith('Approval needed')),
      { what: 'the approval card', timeoutMs: 30_000 },
    );
    expect(await click(tacit.url, 'alice', asked.id, APPROVE_ACTION_ID, approvalIdOf(asked))).toMatch(/^Approved/);
    await waitFor(async () => (await channelMessages(tacit.url)).find((m) => m.id === asked.id && m.text.startsWith('Done')), { what: 'the card to show the result', timeoutMs: 30_000 });
    expect(alertmanager.silences).toHaveLength(1);
  });

  it('keeps the queues in the slot of {prefix}, and the heartbeat\'s state and beats in its partitions\' slots, spread over the masters', async () => {
    const queueKeys = await client.exists(`{${tacit.prefix}}:heartbeat:meta`, restoreMarker(`{${tacit.prefix}}`));
    expect(queueKeys).toBe(2);
    const state = workspaceKey(tacit.prefix, 'playground:local');
    expect(Number(await client.hget(state, 'ticks'))).toBeGreaterThan(0);
    const slot = async (key: string) => Number(await client.call('CLUSTER', 'KEYSLOT', key));
    expect(await slot(workspaceKey(tacit.prefix, 'playground:local', 'lock'))).toBe(await slot(state));
    expect(await slot(`${tacit.prefix}:anything`)).not.toBe(await slot(`{${tacit.prefix}}:anything`));
    expect((await tacit.signals.counters()).ticks).toBeGreaterThan(0);
    // The sweep's script for a partition reaches its workspaces' state: one slot per partition.
    expect(await slot(beatsKey(tacit.prefix, beatPartition('playground:local')))).toBe(await slot(state));
    // Quiet beats keep coming on the cluster (the sweep's script ran on the partition's master).
    const ticks = Number(await client.hget(state, 'ticks'));
    await waitFor(async () => Number(await client.hget(state, 'ticks')) >= ticks + 2, { what: 'two more beats', timeoutMs: 10_000 });
    // The partitions are not all on one master.
    const owners = new Set<string>();
    const nodes = (await client.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    for (let p = 0; p < BEAT_PARTITIONS; p++) {
      const s = await slot(beatsKey(tacit.prefix, p));
      const owner = nodes.find(([from, to]) => s >= from && s <= to);
      owners.add(String(owner?.[2][1]));
    }
    expect(owners.size).toBeGreaterThan(1);
  });
});
