/**
 * Submits the sample images (repeated to `count`) to a running API, waits, and prints the job record and
 * one result as JSON. Run: node dist/bench/submit-samples.js [apiUrl] [count] [precision] [allowCpu]
 */
import { benchClient } from './bench-client.js';
import { samplePages } from './sample-pages.js';

const [api = 'http://127.0.0.1:8080', count = '6', precision = 'auto', allowCpu = 'false'] = process.argv.slice(2);
const client = await benchClient(api);
const images = (await samplePages(process.env.SAMPLES_DIR ?? 'samples')).pages(Number(count));
const accepted = await client.submit(images, { precision, allowCpu });
console.log(JSON.stringify({ kind: 'submit', ...accepted }));
if (accepted.status !== 202) process.exit(1);
const job = await client.waitForJob(accepted.body.id as string, 120_000, 200);
const { results } = await client.results(job.id);
console.log(JSON.stringify({ kind: 'job', job }));
console.log(JSON.stringify({ kind: 'result', first: results[0], count: results.length }));
process.exit(job.state === 'completed' ? 0 : 1);
