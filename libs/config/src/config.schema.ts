import { z } from 'zod';
import { IMAGE_FORMATS, MAX_DECODE_PIXELS, WEBGPU_BUFFER_CACHE_MODES, type ImageFormat } from '#contracts';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const bytesGb = z.coerce.number().positive().transform((gb) => Math.round(gb * 1e9));
const list = (text: string) => text.split(',').map((s) => s.trim()).filter(Boolean);
const formats = z
  .string()
  .transform(list)
  .pipe(z.array(z.enum(IMAGE_FORMATS)).min(1, 'at least one format'))
  .transform((f) => f as ImageFormat[]);

/**
 * Every setting gpuq reads from the environment, with its default. This is the one place defaults live;
 * the README's configuration table mirrors it.
 */
export const configSchema = z.object({
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  /** Prefix of every Redis key and BullMQ queue: several deployments can share one Redis. */
  GPUQ_PREFIX: z.string().regex(/^[a-zA-Z0-9_-]+$/).default('gpuq'),
  /** Folder of the filesystem blob store, shared by the API and the workers. */
  BLOB_DIR: z.string().default('.data/blobs'),
  /** Where converted fp16/bf16 model variants are cached. */
  MODEL_CACHE_DIR: z.string().default('.data/models'),
  API_HOST: z.string().default('0.0.0.0'),
  API_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Upload limits checked before anything is stored or queued. */
  MAX_IMAGES_PER_JOB: z.coerce.number().int().positive().default(256),
  MAX_IMAGE_BYTES: z.coerce.number().int().positive().default(20 * 1024 * 1024),
  MAX_IMAGE_PIXELS: z.coerce.number().int().positive().max(MAX_DECODE_PIXELS).default(40_000_000),
  /** Bytes of one whole upload request, every image and field together; counted while it streams in. */
  MAX_REQUEST_BYTES: z.coerce.number().int().positive().default(256 * 1024 * 1024),
  /** Where uploads stream to disk while a submit is checked; a request's files are removed when it ends. */
  UPLOAD_DIR: z.string().default('.data/uploads'),
  /** Image formats accepted at submit, recognised from their bytes. SVG is refused unless listed. */
  ACCEPTED_FORMATS: formats.default(['png', 'jpeg', 'webp', 'gif', 'tiff', 'avif']),
  /**
   * A job that does not say `allowCpu` may fall back to the CPU (fp32) when no GPU class can serve it.
   * `npm start` turns it on when the machine has no GPU.
   */
  CPU_FALLBACK: bool.default(false),
  /** Per API key, unless the key sets its own: requests a minute (with a burst), jobs not yet finished, images a day (UTC). */
  RATE_LIMIT_PER_MIN: z.coerce.number().int().positive().default(600),
  RATE_LIMIT_BURST: z.coerce.number().int().positive().default(60),
  MAX_CONCURRENT_JOBS: z.coerce.number().int().positive().default(20),
  MAX_IMAGES_PER_DAY: z.coerce.number().int().positive().default(10_000),
  /** Browser origins allowed to call the API (comma-separated, or `*`); empty: no CORS headers. */
  CORS_ORIGINS: z.string().default('').transform(list),
  /** Webhooks to private, loopback or link-local addresses are refused unless this is true (server-side request forgery). */
  WEBHOOK_ALLOW_PRIVATE: bool.default(false),
  /** Deliveries of one webhook before it is given up; the wait doubles from WEBHOOK_BACKOFF_MS. */
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().positive().default(10),
  WEBHOOK_BACKOFF_MS: z.coerce.number().int().positive().default(2000),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  /** Where images live: `fs` (BLOB_DIR, one machine or a shared volume) or `s3` (any S3-compatible store). */
  BLOB_STORE: z.enum(['fs', 's3']).default('fs'),
  S3_BUCKET: z.string().min(3).optional(),
  /** For S3-compatible stores (MinIO, Ceph, R2); unset for AWS S3. */
  S3_ENDPOINT: z.string().url().optional(),
  S3_REGION: z.string().default('us-east-1'),
  /** Bucket in the path, not the host name: what MinIO and most self-hosted stores need. */
  S3_FORCE_PATH_STYLE: bool.default(false),
  /** Static credentials; unset: the AWS SDK's default chain (AWS_* variables, profiles, instance roles). */
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  /** Prefix of every object key, so deployments can share a bucket. */
  S3_KEY_PREFIX: z.string().regex(/^([a-zA-Z0-9_-]+\/)*$/, 'empty, or folder names each ending in /').default(''),
  /**
   * The worker's own HTTP port: /metrics (Prometheus), /health/live, /health/ready. A worker host gives its i-th
   * worker this port + i; 0 lets the OS pick (logged, and shown in the worker's advert).
   */
  WORKER_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  /**
   * The operators' dashboard (/dashboard: fleet, classes, jobs of every tenant, bull-board): its login. With no
   * password set the dashboard is off. API keys never open it: operators see every tenant, a key sees one.
   */
  DASHBOARD_USER: z.string().min(1).default('admin'),
  DASHBOARD_PASSWORD: z.string().min(12, 'at least 12 characters').optional(),
  /** Seconds a worker's registry entry lives without a heartbeat. */
  WORKER_TTL_S: z.coerce.number().positive().default(15),
  HEARTBEAT_S: z.coerce.number().positive().default(5),
  /** BullMQ lock of a running placement; a worker that dies is noticed after about this long. */
  LOCK_MS: z.coerce.number().int().positive().default(30_000),
  STALLED_CHECK_MS: z.coerce.number().int().positive().default(15_000),
  /** Deliveries that ended with the worker dying before a job is stopped as poison. */
  MAX_CRASHES: z.coerce.number().int().positive().default(3),
  /**
   * Attempts after the first at a micro-batch that failed with a transient error (a connection reset or closed, a
   * lost GPU device), waiting TRANSIENT_BACKOFF_MS, doubling (at most 30 s); then the job fails `transient`.
   */
  TRANSIENT_RETRIES: z.coerce.number().int().min(0).default(4),
  TRANSIENT_BACKOFF_MS: z.coerce.number().int().positive().default(500),
  /**
   * How long a job handed back to wait (for memory other jobs hold, or for a worker where its variant passed the
   * check) may wait, counted from the first hand-back since it last made progress; then it fails with the reason.
   */
  MAX_WAIT_S: z.coerce.number().positive().default(900),
  /**
   * A job queued (or left by a dead worker) in a class that no live worker has served for this long is moved
   * to a class that serves its precision, or failed `no-capacity` with the reasons.
   */
  STRANDED_AFTER_S: z.coerce.number().positive().default(300),
  /** How long a job submitted with waitForCapacity waits for a worker of its class to join before it fails. */
  CAPACITY_WAIT_S: z.coerce.number().positive().default(86_400),
  /** A finished job (record, events, results, images) is deleted this long after it finished. */
  JOB_TTL_S: z.coerce.number().positive().default(7 * 86_400),
  /** How often the API sweeps: placements left in the outbox, stranded jobs, finished jobs past JOB_TTL_S. */
  SWEEP_S: z.coerce.number().positive().default(5),
  /**
   * A profile lowered after an OOM, or a prior kept after a failed calibration, is measured again after this long
   * (a GPU worker calibrates again; other devices start from the prior).
   */
  LEARNED_PROFILE_TTL_S: z.coerce.number().positive().default(6 * 3600),
  /** Jobs one worker runs at once (they share the device through the VRAM ledger). */
  WORKER_CONCURRENCY: z.coerce.number().int().positive().default(1),
  /** Use only this GPU (index as nvidia-smi numbers it); unset: GPU 0 if any, else the CPU. */
  GPU_INDEX: z.coerce.number().int().min(0).optional(),
  /**
   * Use only the GPU with this UUID (nvidia-smi's `GPU-…`); wins over GPU_INDEX for finding the card, while
   * GPU_INDEX stays the index shown. The worker host sets both for a worker it starts in a GPU namespace, where
   * nvidia-smi numbers the one card it sees 0.
   */
  GPU_UUID: z.string().regex(/^GPU-[0-9a-fA-F-]+$/, 'a GPU UUID as nvidia-smi prints it (GPU-…)').optional(),
  /**
   * Worker host (`npm run start:worker-host`): which GPUs get a worker process, `all` or a list such as `0,2`.
   * One process per GPU: an OOM or crash on one card never disturbs another.
   */
  GPU_INDICES: z.string().regex(/^(all|\d+(,\d+)*)$/, 'all, or GPU indexes separated by commas').default('all'),
  /**
   * Worker host: how each GPU worker is pinned to its card. `cuda` sets CUDA_VISIBLE_DEVICES (the CUDA
   * provider). `namespace` starts the worker in a private mount namespace whose /dev holds only its card's
   * node (read-only, so the driver cannot recreate the others), as container runtimes do: the only way to
   * pin the WebGPU provider, which has no adapter selection; needs root and util-linux `unshare`. `auto`:
   * `namespace` where the GPU provider is webgpu and the host has several GPUs, else `cuda`.
   */
  GPU_ISOLATION: z.enum(['auto', 'namespace', 'cuda']).default('auto'),
  /**
   * Set by the worker host for the workers it starts: a worker whose parent is no longer this process (the
   * host was killed) drains and exits, so a restarted host never finds two workers on one card.
   */
  WORKER_HOST_PID: z.coerce.number().int().positive().optional(),
  /** Force the device kind: `gpu` fails start-up when no GPU is found; `cpu` ignores GPUs. */
  WORKER_DEVICE: z.enum(['auto', 'gpu', 'cpu']).default('auto'),
  /**
   * The onnxruntime provider that drives a GPU: `auto` takes cuda where a CUDA session can be created, else
   * webgpu; `cuda` or `webgpu` insist on one (start-up fails with onnxruntime's reason when it cannot load).
   */
  GPU_PROVIDER: z.enum(['auto', 'cuda', 'webgpu']).default('auto'),
  /**
   * Let the CUDA provider compute float32 MatMul/Conv in TF32 (10-bit mantissa, faster on compute capability
   * >= 8). Off by default: the worker sets NVIDIA_TF32_OVERRIDE=0 so fp32 means fp32. When on, the fp32
   * self-test fails on such cards and the worker does not advertise fp32: TF32 is never passed off as fp32.
   */
  CUDA_TF32: bool.default(false),
  /**
   * Op types that every fp16/bf16 variant keeps in float32 (comma-separated, e.g. `Resize,Softmax`), on top of
   * those a provider has no kernel for: for accuracy where a model needs it. Jobs still judge what ran by
   * measurement, so a list that leaves most of the arithmetic in float32 fails the precision promise.
   */
  VARIANT_KEEP_FP32_OPS: z.string().regex(/^(\w+(,\w+)*)?$/, 'op types separated by commas').default('').transform((v) => (v ? v.split(',') : [])),
  /**
   * Check each built-in model's fp16/bf16 variant at start (fitted to the provider, measured, compared with
   * fp32); a failed (model, precision) is not advertised. `false` starts faster and leaves the promise to the
   * per-job measurement alone.
   */
  VARIANT_CHECKS: bool.default(true),
  /**
   * Least share of a job's arithmetic (floating-point operations of its Conv/MatMul/Gemm nodes, measured in
   * onnxruntime's profile of the session's first run) that must run in the promised precision.
   */
  PRECISION_MIN_SHARE: z.coerce.number().min(0).max(1).default(0.9),
  /**
   * A declared capability (JSON) instead of a probe: for tests and CPU-only development.
   * e.g. {"name":"Tesla T4","computeCapability":7.5,"totalGb":16,"precisions":["fp16","fp32"]}.
   * The worker still runs on the CPU provider; everything it shows is marked `declared`.
   */
  WORKER_DECLARE: z.string().optional(),
  /** Memory the CPU device offers jobs (GB); default: 50% of the machine's memory. */
  CPU_MEMORY_GB: bytesGb.optional(),
  /**
   * Fraction of a prediction added as a margin before comparing with free memory, for profiles not measured on
   * this device (a model manifest's prior).
   */
  MEMORY_MARGIN: z.coerce.number().min(0).max(1).default(0.1),
  /**
   * The least margin of a calibrated profile. Each calibration measures its own (every point predicted from the
   * others; the worst miss becomes the margin), so a profile gets more than this when its memory is less regular.
   */
  MEMORY_MARGIN_MIN: z.coerce.number().min(0).max(1).default(0.04),
  /**
   * How onnxruntime's WebGPU provider keeps buffers between runs. `lazyRelease` (exact sizes, freed after each
   * run) makes a run's memory predictable; `bucket` is onnxruntime's default (see libs/inference session-options).
   */
  WEBGPU_BUFFER_CACHE: z.enum(WEBGPU_BUFFER_CACHE_MODES).default('lazyRelease'),
  /**
   * Flag a run whose measured memory exceeds its prediction by this factor (precision drift). A coarse signal:
   * on the H200's CUDA provider a bf16 job whose variant computed in float32 read 1.6× its bf16 profile, but a
   * correct bf16 job on a fresh worker read 1.51× as well (the arena grows in doubling steps that depend on the
   * batches run before). The precision promise is held by measured element types; this flags gross drift.
   */
  DRIFT_FACTOR: z.coerce.number().min(1).default(2),
  /** Calibrate a model automatically the first time a worker meets it on its device. */
  AUTO_CALIBRATE: bool.default(true),
  /** Start a local redis-server when none answers at REDIS_URL (npm start only). */
  START_REDIS: bool.default(true),
  /** The `gpuq` CLI: the API it talks to, and the key it sends (else the key `npm start` wrote to .data/api-key). */
  GPUQ_URL: z.string().url().default('http://127.0.0.1:8080'),
  GPUQ_API_KEY: z.string().optional(),
}).superRefine((config, ctx) => {
  if (config.BLOB_STORE === 's3' && !config.S3_BUCKET) ctx.addIssue({ code: 'custom', path: ['S3_BUCKET'], message: 'required when BLOB_STORE=s3' });
  if (!config.S3_ACCESS_KEY_ID !== !config.S3_SECRET_ACCESS_KEY) {
    ctx.addIssue({ code: 'custom', path: ['S3_SECRET_ACCESS_KEY'], message: 'S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together' });
  }
});

export type Config = z.infer<typeof configSchema>;
