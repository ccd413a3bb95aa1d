/**
 * Submits the sample images (repeated to `count`) to a running API, waits, and prints the job record and
 * one result as JSON. Run: node dist/bench/submit-samples.js [apiUrl] [count] [precision] [allowCpu]
 */
import { renderTextImage, sampleImages } from '../test/fixtures/text-images.js';

const [api = 'http://127.0.0.1:8080', count = '6', precision = 'auto', allowCpu = 'false'] = process.argv.slice(2);
const pngs = await Promise.all(sampleImages().map(async (s) => (await renderTextImage(s)).png));
const form = new FormData();
for (let i = 0; i < Number(count); i++) form.append('images', new Blob([new Uint8Array(pngs[i % pngs.length]!)]), `sample-${i}.png`);
form.append('precision', precision);
form.append('allowCpu', allowCpu);
const res = await fetch(`${api}/v1/jobs`, { method: 'POST', body: form });
const accepted = (await res.json()) as { id: string };
console.log(JSON.stringify({ kind: 'submit', status: res.status, body: accepted }));
if (res.status !== 202) process.exit(1);
for (let i = 0; i < 600; i++) {
  const job = (await (await fetch(`${api}/v1/jobs/${accepted.id}`)).json()) as { state: string };
  if (['completed', 'failed', 'cancelled'].includes(job.state)) {
    const results = (await (await fetch(`${api}/v1/jobs/${accepted.id}/results`)).json()) as { results: unknown[] };
    console.log(JSON.stringify({ kind: 'job', job }));
    console.log(JSON.stringify({ kind: 'result', first: results.results[0], count: results.results.length }));
    process.exit(job.state === 'completed' ? 0 : 1);
  }
  await new Promise((r) => setTimeout(r, 200));
}
console.log(JSON.stringify({ kind: 'timeout' }));
process.exit(1);
