// The dry run of deploy/kubernetes (there is no kubectl here): every manifest parses into a valid
// Kubernetes shape, and what it says about Tacit matches the source — the probes hit routes the HTTP
// server has, every variable is one config.ts reads (and the example set loads), the port is Tacit's
// default, the selectors agree, and the grace period covers preStop plus Tacit's shutdown bound.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { defaults, loadConfig } from '../../src/config.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = `${root}deploy/kubernetes/`;
const source = (path: string) => readFileSync(`${root}${path}`, 'utf8');

const labels = z.record(z.string(), z.string());
const metadata = z.object({ name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/), labels: labels.optional() });
const probe = z.object({ httpGet: z.object({ path: z.string(), port: z.union([z.string(), z.number()]) }) });
const container = z.object({
  name: z.string(),
  image: z.string().min(1),
  ports: z.array(z.object({ name: z.string().optional(), containerPort: z.number() })),
  env: z.array(z.object({ name: z.string() })).optional(),
  envFrom: z.array(z.object({ configMapRef: z.object({ name: z.string() }).optional(), secretRef: z.object({ name: z.string() }).optional() })).optional(),
  readinessProbe: probe,
  livenessProbe: probe,
  startupProbe: probe.optional(),
  lifecycle: z.object({ preStop: z.object({ exec: z.object({ command: z.array(z.string()) }) }) }).optional(),
  resources: z.object({ requests: z.object({ cpu: z.string(), memory: z.string() }), limits: z.object({ memory: z.string() }) }),
});
const deploymentSchema = z.object({
  apiVersion: z.literal('apps/v1'), kind: z.literal('Deployment'), metadata,
  spec: z.object({
    replicas: z.number().int(),
    selector: z.object({ matchLabels: labels }),
    template: z.object({
      metadata: z.object({ labels }),
      spec: z.object({ terminationGracePeriodSeconds: z.number(), containers: z.array(container).min(1) }),
    }),
  }),
});
const serviceSchema = z.object({
  apiVersion: z.literal('v1'), kind: z.literal('Service'), metadata,
  spec: z.object({ selector: labels, ports: z.array(z.object({ port: z.number(), targetPort: z.union([z.string(), z.number()]) })).min(1) }),
});
const pdbSchema = z.object({
  apiVersion: z.literal('policy/v1'), kind: z.literal('PodDisruptionBudget'), metadata,
  spec: z.object({ minAvailable: z.number().optional(), maxUnavailable: z.number().optional(), selector: z.object({ matchLabels: labels }) }),
});
const configMapSchema = z.object({ apiVersion: z.literal('v1'), kind: z.literal('ConfigMap'), metadata, data: z.record(z.string(), z.string()) });
const secretSchema = z.object({ apiVersion: z.literal('v1'), kind: z.literal('Secret'), metadata, type: z.literal('Opaque'), stringData: z.record(z.string(), z.string()) });
const kustomizationSchema = z.object({ apiVersion: z.literal('kustomize.config.k8s.io/v1beta1'), kind: z.literal('Kustomization'), resources: z.array(z.string()).min(1) });

/** Every document of every manifest, with the file it came from. */
function manifests(): { file: string; doc: Record<string, unknown> }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((file) =>
      parseAllDocuments(readFileSync(`${dir}${file}`, 'utf8')).map((d) => {
        if (d.errors.length > 0) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
        return { file, doc: d.toJS() as Record<string, unknown> };
      }),
    );
}

function one<T>(schema: z.ZodType<T>, kind: string): T {
  const found = manifests().filter((m) => m.doc.kind === kind);
  expect(found, `one ${kind} in deploy/kubernetes`).toHaveLength(1);
  return schema.parse(found[0]?.doc);
}

/** The variables config.ts's zod schema names (read from the source: only config.ts reads the environment). */
function configVariables(): Set<string> {
  const text = source('src/config.ts');
  const body = /const envSchema = z\.object\(\{([\s\S]*?)\n\}\);/.exec(text)?.[1] ?? '';
  return new Set([...body.matchAll(/^\s{2}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1] ?? ''));
}

/** GET routes the HTTP server itself answers. */
function serverRoutes(): string[] {
  return [...source('src/http/server.ts').matchAll(/app\.get\('([^']+)'/g)].map((m) => m[1] ?? '');
}

/** How long `npm start` lets its shutdown take before it forces the exit (src/main.ts), in ms. */
function shutdownBoundMs(): number {
  const ms = /setTimeout\(\(\) => process\.exit\(1\), ([\d_]+)\)/.exec(source('src/main.ts'))?.[1];
  if (!ms) throw new Error('src/main.ts no longer has its forced-exit timer; update this test with the new shutdown bound');
  return Number(ms.replaceAll('_', ''));
}

const subset = (small: Record<string, string>, big: Record<string, string>) => Object.entries(small).every(([k, v]) => big[k] === v);

describe('deploy/kubernetes', () => {
  it('holds only valid Kubernetes objects, each with apiVersion, kind and a DNS-label name', () => {
    const all = manifests();
    expect(all.length).toBeGreaterThanOrEqual(6);
    const shapes: Record<string, z.ZodType> = {
      Deployment: deploymentSchema, Service: serviceSchema, PodDisruptionBudget: pdbSchema, ConfigMap: configMapSchema, Secret: secretSchema, Kustomization: kustomizationSchema,
    };
    for (const { file, doc } of all) {
      const shape = shapes[String(doc.kind)];
      expect(shape, `${file}: unexpected kind ${String(doc.kind)}`).toBeDefined();
      const parsed = shape?.safeParse(doc);
      expect(parsed?.success, `${file}: ${parsed?.error?.message ?? ''}`).toBe(true);
    }
    // The kustomization lists files that exist, and never the example Secret (its values are placeholders).
    const kustomization = one(kustomizationSchema, 'Kustomization');
    for (const r of kustomization.resources) expect(readdirSync(dir)).toContain(r);
    expect(kustomization.resources).not.toContain('secret.example.yaml');
  });

  it('probes routes the HTTP server has: readiness on /readyz, liveness on /healthz', () => {
    const routes = serverRoutes();
    const c = one(deploymentSchema, 'Deployment').spec.template.spec.containers[0];
    expect(c?.readinessProbe.httpGet.path).toBe('/readyz');
    expect(c?.livenessProbe.httpGet.path).toBe('/healthz');
    for (const p of [c?.readinessProbe, c?.livenessProbe, c?.startupProbe]) {
      if (!p) continue;
      expect(routes).toContain(p.httpGet.path);
      expect([c?.ports[0]?.name, c?.ports[0]?.containerPort]).toContain(p.httpGet.port);
    }
  });

  it('sets only variables config.ts reads, and the example set loads', () => {
    const known = configVariables();
    expect(known.has('DATABASE_URL') && known.has('SLACK_BOT_TOKEN')).toBe(true);
    const config = one(configMapSchema, 'ConfigMap');
    const secret = one(secretSchema, 'Secret');
    const c = one(deploymentSchema, 'Deployment').spec.template.spec.containers[0];
    const referenced = [...Object.keys(config.data), ...Object.keys(secret.stringData), ...(c?.env ?? []).map((e) => e.name)];
    expect(referenced.filter((name) => !known.has(name))).toEqual([]);
    // The Deployment takes its environment from these two, by name.
    expect(c?.envFrom?.map((e) => e.configMapRef?.name ?? e.secretRef?.name)).toEqual([config.metadata.name, secret.metadata.name]);
    // Placeholders in the shapes Tacit validates: the example fails on nothing but its fake values.
    const loaded = loadConfig({ ...config.data, ...secret.stringData });
    expect(loaded.database.kind).toBe('postgres');
    expect(loaded.redis.kind).toBe('url');
    expect(loaded.playground).toBe(false);
    // No real credentials in the example: every value says it is one to replace.
    for (const [name, value] of Object.entries(secret.stringData)) {
      if (name !== 'DISCORD_APPLICATION_ID') expect(value, name).toMatch(/REPLACE/);
    }
  });

  it('listens on Tacit\'s default port, and the Service sends traffic there', () => {
    const c = one(deploymentSchema, 'Deployment').spec.template.spec.containers[0];
    expect(c?.ports[0]?.containerPort).toBe(defaults.port);
    expect(Number(one(configMapSchema, 'ConfigMap').data.PORT ?? defaults.port)).toBe(defaults.port);
    const target = one(serviceSchema, 'Service').spec.ports[0]?.targetPort;
    expect([c?.ports[0]?.name, c?.ports[0]?.containerPort]).toContain(target);
  });

  it('runs three replicas whose labels the Service and the PodDisruptionBudget select', () => {
    const deployment = one(deploymentSchema, 'Deployment');
    const podLabels = deployment.spec.template.metadata.labels;
    expect(deployment.spec.replicas).toBe(3);
    expect(subset(deployment.spec.selector.matchLabels, podLabels)).toBe(true);
    expect(subset(one(serviceSchema, 'Service').spec.selector, podLabels)).toBe(true);
    const pdb = one(pdbSchema, 'PodDisruptionBudget');
    expect(subset(pdb.spec.selector.matchLabels, podLabels)).toBe(true);
    // One replica at a time may be drained: maxUnavailable 1, or minAvailable below the replica count.
    if (pdb.spec.maxUnavailable !== undefined) expect(pdb.spec.maxUnavailable).toBe(1);
    else expect(pdb.spec.minAvailable).toBe(deployment.spec.replicas - 1);
  });

  it('gives the pod time for preStop and Tacit\'s whole graceful shutdown', () => {
    const spec = one(deploymentSchema, 'Deployment').spec.template.spec;
    const preStop = spec.containers[0]?.lifecycle?.preStop.exec.command ?? [];
    const preStopSeconds = preStop[0] === 'sleep' ? Number(preStop[1]) : 0;
    expect(spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(preStopSeconds + shutdownBoundMs() / 1000);
  });
});
