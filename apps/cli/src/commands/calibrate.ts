import { hostname } from 'node:os';
import { InvalidArgumentError, type Command } from 'commander';
import { PRECISIONS, type Precision } from '#contracts';
import { createLogger, type Config } from '#config';
import { ProfileRepository } from '#queue';
import { UsageError } from '../api-client.js';
import { withRedis } from '../with-redis.js';

/**
 * `gpuq probe`, `gpuq calibrate` and `gpuq profiles`: the device and its memory profiles, on the worker's machine
 * (same environment as the worker). Logs go to stderr: stdout is the answer.
 */
export function calibrationCommands(program: Command, config: Config): void {
  program
    .command('probe')
    .description("what this machine's device proves (providers, self-tests, each model's variants fitted, measured and checked), as a worker here would advertise it")
    .action(async () => {
      const { configureRuntime, SessionCache } = await import('#inference');
      const { checkModelVariants, NvidiaSmi, probeDevice } = await import('#device');
      configureRuntime({ webgpuBufferCache: config.WEBGPU_BUFFER_CACHE });
      const log = createLogger('cli', config.LOG_LEVEL, 2);
      const sessions = new SessionCache(config.MODEL_CACHE_DIR, { keepFp32Ops: config.VARIANT_KEEP_FP32_OPS });
      const device = await probeDevice(config, new NvidiaSmi(), log);
      const variantChecks = config.VARIANT_CHECKS ? await checkModelVariants(device, sessions, log, config.PRECISION_MIN_SHARE) : [];
      await sessions.release();
      console.log(JSON.stringify({ ...device, variantChecks }, null, 2));
    });

  program
    .command('calibrate')
    .description("measure a model's memory profile on this machine's device and store it")
    .requiredOption('--model <id>', 'model id')
    .requiredOption('--precision <precision>', PRECISIONS.join(', '))
    .option('--max-batch <n>', 'largest batch to measure', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a whole number above 0');
      return n;
    })
    .action(async (options: { model: string; precision: string; maxBatch?: number }) => {
      // Loaded here, not at start: onnxruntime and the device probe are heavy, and only this command needs them.
      const { configureRuntime, getManifest, listManifests, SessionCache } = await import('#inference');
      const { calibrateModel, CpuMemory, NvidiaSmi, openDeviceMemory, probeDevice } = await import('#device');
      const manifest = getManifest(options.model);
      if (!manifest) throw new UsageError(`--model must be one of ${listManifests().map((m) => m.id).join(', ')}`);
      const precision = options.precision as Precision;
      if (!PRECISIONS.includes(precision)) throw new UsageError(`--precision must be one of ${PRECISIONS.join(', ')}`);
      configureRuntime({ webgpuBufferCache: config.WEBGPU_BUFFER_CACHE });
      const smi = new NvidiaSmi();
      const device = await probeDevice(config, smi, createLogger('cli', config.LOG_LEVEL, 2));
      if (!device.provenPrecisions.includes(precision)) {
        throw new Error(`${precision} is not proven on this device (${device.provider}: ${device.provenPrecisions.join(', ')}); refusing to calibrate a precision it cannot run`);
      }
      const memory = await openDeviceMemory(device, smi, config.CPU_MEMORY_GB ?? CpuMemory.defaultBudget());
      const sessions = new SessionCache(config.MODEL_CACHE_DIR, { keepFp32Ops: config.VARIANT_KEEP_FP32_OPS });
      const report = await calibrateModel({
        manifest, precision, device, deviceName: device.gpu?.name ?? 'cpu', sessions, memory, minMarginFraction: config.MEMORY_MARGIN_MIN, maxBatch: options.maxBatch,
      });
      // Stored for this card (host and GPU UUID), the one a worker on it reads: another card of the name measures its own.
      const { deviceInstanceId } = await import('#scheduling');
      await withRedis(config, (redis, keys) => new ProfileRepository(redis, keys).put({ ...report.profile, deviceId: deviceInstanceId(device, hostname()) }));
      await sessions.release();
      console.log(JSON.stringify({ ...report, profile: { ...report.profile, points: undefined } }, null, 2));
    });

  program
    .command('profiles')
    .description('every stored memory profile, as JSON (also GET /v1/profiles)')
    .action(async () => {
      console.log(JSON.stringify(await withRedis(config, (redis, keys) => new ProfileRepository(redis, keys).list()), null, 2));
    });
}
