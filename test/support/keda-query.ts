import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

type ScaledObject = { kind: string; spec: { triggers: { name: string; metadata: { query: string } }[] } };

/** The Prometheus query deploy/kubernetes/autoscaling.yaml's KEDA trigger runs for one class, as written there. */
export function kedaQueryOf(className: string): string {
  const file = fileURLToPath(new URL('../../deploy/kubernetes/autoscaling.yaml', import.meta.url));
  const objects = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as ScaledObject).filter((o) => o?.kind === 'ScaledObject');
  const trigger = objects.flatMap((o) => o.spec.triggers).find((t) => t.name === className);
  if (!trigger) throw new Error(`no KEDA trigger for ${className} in ${file}`);
  return trigger.metadata.query;
}
