import os from 'node:os';
import { createBlobStore } from '#blobs';
import { ConfigError, createLogger, loadConfig } from '#config';
import { configureRuntime, listManifests, memoryPrior, runtimeOptions, SessionCache } from '#inference';
import { ClassQueues, createRedis, JobDeliveries, JobRecordRepository, Keys, PlacementOutbox, ProfileRepository, waitForRedis, WorkerRegistry } from '#queue';
import { classesServedBy, deviceInstanceId, deviceLabel, priorProfile, VramLedger } from '#scheduling';
import { checkModelVariants, CpuMemory, DeviceRefusedError, NvidiaSmi, openDeviceMemory, probeDevice } from '#device';
import { calibrateOnDevice } from './execution/calibrate-on-device.js';
import { RunPlacement } from './execution/run-placement.js';
import { EXIT_REFUSED } from './exit-codes.js';
import { WorkerHttp } from './observability/worker-http.js';
import { WorkerMetrics } from './observability/worker-metrics.js';
import { WorkerLoop } from './worker-loop.js';

const log = createLogger('worker');

async function main(): Promise<void> {
  const config = loadConfig();
  // Before any session: onnxruntime fixes WebGPU's buffer cache with the first session of the process.
  configureRuntime({ webgpuBufferCache: config.WEBGPU_BUFFER_CACHE });
  const redis = createRedis(config.REDIS_URL);
  await waitForRedis(redis, 30_000);
  const keys = new Keys(config.GPUQ_PREFIX);
  const smi = new NvidiaSmi();
  let loop: WorkerLoop | undefined;
  let metrics: WorkerMetrics | undefined;
  // Up before the probe, so a liveness check passes while the device is self-tested; ready once the loop serves.
  const http = await WorkerHttp.listen('0.0.0.0', config.WORKER_HTTP_PORT, () => metrics, async () => {
    const serving = loop?.isServing ?? false;
    const redisUp = await Promise.race([redis.ping().then(() => true, () => false), sleep(1000).then(() => false)]);
    return {
      ready: serving && redisUp,
      checks: { loop: loop ? (serving ? 'serving' : 'draining') : 'starting', redis: redisUp ? 'up' : 'does not answer' },
    };
  });

  const sessions = new SessionCache(config.MODEL_CACHE_DIR, { keepFp32Ops: config.VARIANT_KEEP_FP32_OPS });
  const probed = await probeDevice(config, smi, log);
  const variantChecks = config.VARIANT_CHECKS ? await checkModelVariants(probed, sessions, log, config.PRECISION_MIN_SHARE) : [];
  const device = { ...probed, variantChecks };
  const classes = classesServedBy(device);
  if (classes.length === 0) throw new DeviceRefusedError(`this device proved no precision it can serve: ${JSON.stringify(device.selfTests)}`);
  const memory = await openDeviceMemory(device, smi, config.CPU_MEMORY_GB ?? CpuMemory.defaultBudget());
  const deviceName = device.gpu?.name ?? 'cpu';
  const workerId = `${os.hostname()}-${process.pid}-${device.gpu ? `gpu${device.gpu.index}` : 'cpu'}`;
  const ledger = new VramLedger(device.totalBytes, workerId);
  // Every line from here on names this worker; a job's lines also name the job.
  const workerLog = log.child({ workerId });
  metrics = new WorkerMetrics(
    { workerId, device: deviceName, gpuIndex: device.gpu ? String(device.gpu.index) : '', provider: device.provider, source: device.source, classes },
    async () => ({ totalBytes: device.totalBytes, freeBytes: await memory.availableBytes(), reservedBytes: ledger.reservedBytes }),
  );

  const registry = new WorkerRegistry(redis, keys);
  const executor = new RunPlacement({
    config, log: workerLog, workerId, device, deviceName, deviceId: deviceInstanceId(device, os.hostname()), memory, ledger, sessions,
    profiles: new ProfileRepository(redis, keys), registry, blobs: createBlobStore(config), metrics,
    calibrate: (manifest, precision) => calibrateOnDevice({ manifest, precision, device, deviceName, sessions, memory, minMarginFraction: config.MEMORY_MARGIN_MIN }),
    isDraining: () => loop?.isDraining ?? false, advertiseNow: async () => loop?.advertiseNow(),
  });
  const outbox = new PlacementOutbox(redis, keys, new ClassQueues(redis, keys));
  const deliveries = new JobDeliveries(redis, keys, classes, new JobRecordRepository(redis, keys), outbox, {
    workerId, lockMs: config.LOCK_MS, stalledCheckMs: config.STALLED_CHECK_MS, maxCrashes: config.MAX_CRASHES,
  });
  const smallest = Math.min(...listManifests().map((m) => {
    const p = priorProfile(memoryPrior(m), 'fp16', device.provider, deviceName, 0, '');
    return p.fixedBytes + p.perItemBytes;
  }));
  loop = new WorkerLoop({
    config, log: workerLog, executor, memory, ledger, minAdmitBytes: smallest,
    registry, metrics,
    deliveries,
    loadedModels: () => sessions.loadedModels(),
    advert: { workerId, host: os.hostname(), pid: process.pid, device, classes, startedAt: new Date().toISOString(), httpPort: http.port },
  });
  workerLog.info({ httpPort: http.port, device: deviceLabel(device), source: device.source, proven: device.provenPrecisions, runtime: runtimeOptions() }, 'device ready');
  await loop.start();

  let signals = 0;
  const shutdown = async (signal: string) => {
    if (++signals > 1) {
      workerLog.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    workerLog.info({ signal }, 'shutting down');
    // The HTTP port stays up while draining (readiness says `draining`) and goes with the process.
    await loop!.drain();
    await sessions.release();
    redis.disconnect();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  if (config.WORKER_HOST_PID) {
    // Started by a worker host: if the host dies (kill -9, host OOM), this worker is reparented; it drains and
    // exits rather than serving on beside the workers a restarted host will start on the same card.
    const watch = setInterval(() => {
      if (process.ppid === config.WORKER_HOST_PID) return;
      clearInterval(watch);
      workerLog.warn({ hostPid: config.WORKER_HOST_PID, ppid: process.ppid }, 'worker host is gone');
      void shutdown('worker host gone');
    }, 1000);
    watch.unref();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

main().catch((err) => {
  log.fatal({ err: err instanceof Error ? err.message : String(err) }, 'worker failed to start');
  process.exit(err instanceof DeviceRefusedError || err instanceof ConfigError ? EXIT_REFUSED : 1);
});
