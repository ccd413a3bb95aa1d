import { GpuqClient } from '#client';
import { LOCAL_KEY_FILE, readLocalKey, type Config } from '#config';

export interface ApiOptions {
  url?: string;
  apiKey?: string;
}

/** The API client for a command: --url / --api-key, else GPUQ_URL / GPUQ_API_KEY, else the key `npm start` left here. */
export function apiClient(config: Config, options: ApiOptions): GpuqClient {
  const apiKey = options.apiKey ?? config.GPUQ_API_KEY ?? readLocalKey();
  if (!apiKey) throw new UsageError(`no API key: pass --api-key, set GPUQ_API_KEY, or run npm start here (it writes ${LOCAL_KEY_FILE}); an operator creates keys with \`gpuq keys create --tenant <name>\``);
  return new GpuqClient(options.url ?? config.GPUQ_URL, { apiKey });
}

/** A mistake in how the command was called: exit code 2, like any usage error. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}
