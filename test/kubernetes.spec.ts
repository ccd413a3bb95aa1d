import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { Deployment } from 'kubernetes-models/apps/v1';
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { configSchema } from '#config';
import { parseClassName, tierThresholdBytes } from '#scheduling';

const dir = fileURLToPath(new URL('../deploy/kubernetes/', import.meta.url));
/** Kinds the manifests may hold, each with its schema (kubernetes-models: the Kubernetes and KEDA OpenAPI schemas). */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace, 'v1/ConfigMap': ConfigMap, 'v1/Secret': Secret, 'v1/Service': Service,
  'apps/v1/Deployment': Deployment, 'keda.sh/v1alpha1/ScaledObject': ScaledObject,
};

type Manifest = { apiVersion: string; kind: string; metadata: { name: string }; [k: string]: unknown };
const resources = (parse(readFileSync(`${dir}/kustomization.yaml`, 'utf8')) as { resources: string[] }).resources;
const manifests: Manifest[] = resources.flatMap((file) => parseAllDocuments(readFileSync(`${dir}/${file}`, 'utf8')).map((doc) => {
  if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
  return doc.toJS() as Manifest;
})).filter(Boolean);
const ofKind = <T>(kind: string) => manifests.filter((m) => m.kind === kind) as unknown as T[];

type PodSpec = {
  nodeSelector?: Record<string, string>;
  affinity?: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: { matchExpressions: { key: string; operator: string; values: string[] }[] }[] } } };
  containers: { image: string; env?: { name: string; value: string }[]; ports: { name: string; containerPort: number }[]; resources: { limits: Record<string, string> };
    readinessProbe: { httpGet: { path: string; port: string } }; livenessProbe: { httpGet: { path: string; port: string } } }[];
};
type DeploymentManifest = Manifest & { spec: { template: { spec: PodSpec } } };
type ScaledObjectManifest = Manifest & { spec: { scaleTargetRef: { name: string }; minReplicaCount: number; triggers: { type: string; name: string; metadata: { query: string } }[] } };

describe('deploy/kubernetes', () => {
  it('every manifest the kustomization lists passes its Kubernetes (or KEDA) schema', () => {
    expect(manifests.length).toBeGreaterThan(8);
    for (const m of manifests) {
      const Model = MODELS[`${m.apiVersion}/${m.kind}`];
      expect(Model, `${m.kind} ${m.metadata.name}: no schema for ${m.apiVersion}`).toBeDefined();
      expect(() => new Model!(m as never).validate(), `${m.kind} ${m.metadata.name}`).not.toThrow();
    }
  });

  it('a schema error is caught (the check is not vacuous)', () => {
    const api = ofKind<DeploymentManifest>('Deployment')[0]!;
    const broken = structuredClone(api) as unknown as { spec: { replicas: unknown } };
    broken.spec.replicas = 'two';
    expect(() => new Deployment(broken as never).validate()).toThrow();
  });

  it('the ConfigMap names only real settings; API and workers probe /health/live and /health/ready', () => {
    const [config] = ofKind<Manifest & { data: Record<string, string> }>('ConfigMap');
    for (const key of Object.keys(config!.data)) expect(Object.keys(configSchema.shape), key).toContain(key);
    const [secret] = ofKind<Manifest & { stringData: Record<string, string> }>('Secret');
    for (const key of Object.keys(secret!.stringData)) expect(Object.keys(configSchema.shape), key).toContain(key);
    for (const d of ofKind<DeploymentManifest>('Deployment')) {
      const [container] = d.spec.template.spec.containers;
      expect(container!.readinessProbe.httpGet.path, d.metadata.name).toBe('/health/ready');
      expect(container!.livenessProbe.httpGet.path, d.metadata.name).toBe('/health/live');
      const probed = container!.ports.find((p) => p.name === container!.readinessProbe.httpGet.port)!;
      if (d.metadata.name.startsWith('gpuq-worker-')) expect(String(probed.containerPort)).toBe(config!.data.WORKER_HTTP_PORT);
    }
  });

  it('each GPU pool asks for one GPU on nodes GPU Feature Discovery labels with its compute capability, in the GPU image', () => {
    const pools = ofKind<DeploymentManifest>('Deployment').filter((d) => d.metadata.name.startsWith('gpuq-worker-') && d.metadata.name !== 'gpuq-worker-cpu');
    expect(pools.length).toBeGreaterThanOrEqual(3);
    for (const pool of pools) {
      const spec = pool.spec.template.spec;
      expect(spec.nodeSelector?.['nvidia.com/gpu.compute.major'], pool.metadata.name).toMatch(/^\d+$/);
      expect(spec.containers[0]!.resources.limits['nvidia.com/gpu'], pool.metadata.name).toBe('1');
      expect(spec.containers[0]!.image, pool.metadata.name).toMatch(/^gpuq-gpu:/);
      expect(spec.containers[0]!.env).toContainEqual({ name: 'WORKER_DEVICE', value: 'gpu' });
    }
  });

  it('one KEDA trigger per class, each in one pool that can serve it, on the depth query; pools may scale to zero', () => {
    const deployments = new Map(ofKind<DeploymentManifest>('Deployment').map((d) => [d.metadata.name, d]));
    const seen = new Map<string, string>();
    for (const so of ofKind<ScaledObjectManifest>('ScaledObject')) {
      const pool = deployments.get(so.spec.scaleTargetRef.name);
      expect(pool, so.metadata.name).toBeDefined();
      expect(so.spec.minReplicaCount).toBe(0);
      const spec = pool!.spec.template.spec;
      const major = Number(spec.nodeSelector?.['nvidia.com/gpu.compute.major'] ?? 0);
      const memoryMiB = Number(spec.affinity?.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]!.matchExpressions
        .find((e) => e.key === 'nvidia.com/gpu.memory')?.values[0] ?? 0);
      for (const trigger of so.spec.triggers) {
        expect(trigger.type).toBe('prometheus');
        expect(seen.has(trigger.name), `${trigger.name} in two pools`).toBe(false);
        seen.set(trigger.name, so.metadata.name);
        // What waits plus what runs, over the API replicas (each exports the same figures).
        expect(trigger.metadata.query).toBe(`max(gpuq_queue_depth{class="${trigger.name}"}) + max(gpuq_queue_jobs{class="${trigger.name}",state="active"})`);
        const c = parseClassName(trigger.name);
        expect(c.device === 'cpu', trigger.name).toBe(major === 0);
        if (c.precision === 'bf16') expect(major, `${trigger.name} needs compute capability 8+`).toBeGreaterThanOrEqual(8);
        if (c.tierGb) expect(memoryMiB * 2 ** 20, `${trigger.name} on ${so.metadata.name}`).toBeGreaterThanOrEqual(tierThresholdBytes(c.tierGb));
      }
    }
    expect([...seen.keys()]).toEqual(expect.arrayContaining(['cpu-fp32', 'gpu-fp16-16g', 'gpu-bf16-80g', 'gpu-bf16-141g']));
  });
});
