import { readFileSync } from 'node:fs';

/** Where `npm start` keeps this machine's API key; the gpuq CLI reads it when GPUQ_API_KEY is unset. */
export const LOCAL_KEY_FILE = '.data/api-key';

/** The key in `file` (relative to the working directory), if it is there. */
export function readLocalKey(file = LOCAL_KEY_FILE): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
