/**
 * gpuq command line. `npm run gpuq -- <command>`:
 *   probe                                                                  what this machine's device proves, as a worker here would advertise it (JSON)
 *   calibrate --model <id> --precision <fp16|fp32|bf16> [--max-batch N]   measure a memory profile on this machine's device and store it
 *   profiles                                                               print every stored memory profile as JSON
 * Uses the same environment as the worker (REDIS_URL, GPU_INDEX, WORKER_DEVICE, …).
 */
import { parseArgs } from 'node:util';
import { PRECISIONS, type Precision } from '#contracts';
import { createLogger, loadConfig } from '#config';
import { configureRuntime, getManifest, listManifests, SessionCache } from '#inference';
import { createRedis, Keys, ProfileRepository, waitForRedis } from '#queue';
import { calibrateModel, checkModelVariants, CpuMemory, NvidiaSmi, openDeviceMemory, probeDevice } from '#device';

const USAGE = 'usage: gpuq probe | gpuq calibrate --model <id> --precision <bf16|fp16|fp32> [--max-batch N] | gpuq profiles';

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv, allowPositionals: true,
    options: { model: { type: 'string' }, precision: { type: 'string' }, 'max-batch': { type: 'string' } },
  });
  const config = loadConfig();
  configureRuntime({ webgpuBufferCache: config.WEBGPU_BUFFER_CACHE });
  if (positionals[0] === 'probe') {
    // No Redis needed: the device alone, probed and checked as a worker's start-up does.
    const log = createLogger('cli', config.LOG_LEVEL, 2);
    const sessions = new SessionCache(config.MODEL_CACHE_DIR, { keepFp32Ops: config.VARIANT_KEEP_FP32_OPS });
    const device = await probeDevice(config, new NvidiaSmi(), log);
    const variantChecks = config.VARIANT_CHECKS ? await checkModelVariants(device, sessions, log, config.PRECISION_MIN_SHARE) : [];
    await sessions.release();
    console.log(JSON.stringify({ ...device, variantChecks }, null, 2));
    return 0;
  }
  const redis = createRedis(config.REDIS_URL);
  try {
    await waitForRedis(redis, 5000);
    const profiles = new ProfileRepository(redis, new Keys(config.GPUQ_PREFIX));
    switch (positionals[0]) {
      case 'profiles':
        console.log(JSON.stringify(await profiles.list(), null, 2));
        return 0;
      case 'calibrate': {
        const manifest = getManifest(values.model ?? '');
        if (!manifest) throw new Error(`--model must be one of ${listManifests().map((m) => m.id).join(', ')}`);
        const precision = values.precision as Precision;
        if (!PRECISIONS.includes(precision)) throw new Error(`--precision must be one of ${PRECISIONS.join(', ')}`);
        const log = createLogger('cli', config.LOG_LEVEL, 2);
        const smi = new NvidiaSmi();
        const device = await probeDevice(config, smi, log);
        if (!device.provenPrecisions.includes(precision)) {
          throw new Error(`${precision} is not proven on this device (${device.provider}: ${device.provenPrecisions.join(', ')}); refusing to calibrate a precision it cannot run`);
        }
        const memory = await openDeviceMemory(device, smi, config.CPU_MEMORY_GB ?? CpuMemory.defaultBudget());
        const sessions = new SessionCache(config.MODEL_CACHE_DIR, { keepFp32Ops: config.VARIANT_KEEP_FP32_OPS });
        const report = await calibrateModel({
          manifest, precision, device, deviceName: device.gpu?.name ?? 'cpu', sessions, memory, minMarginFraction: config.MEMORY_MARGIN_MIN,
          maxBatch: values['max-batch'] ? Number(values['max-batch']) : undefined,
        });
        await profiles.put(report.profile);
        await sessions.release();
        console.log(JSON.stringify({ ...report, profile: { ...report.profile, points: undefined } }, null, 2));
        return 0;
      }
      default:
        console.error(USAGE);
        return 2;
    }
  } finally {
    redis.disconnect();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`gpuq: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
