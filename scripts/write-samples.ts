/** Writes the sample images (text drawn at known places) used by the README's curl example. */
import { writeSampleImages } from '../test/fixtures/write-samples.js';

const dir = process.argv[2] ?? 'samples';
const paths = await writeSampleImages(dir);
console.log(paths.join('\n'));
