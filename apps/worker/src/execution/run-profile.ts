import type { MemoryProfile, Precision } from '#contracts';
import type { ModelManifest } from '#inference';
import type { JobLease } from '#queue';
import { loadProfile } from './profile-source.js';
import type { ExecutorDeps } from './placement-run.js';

/**
 * The memory profile a job runs with on this device. The first job of a model on a GPU (or the first after its
 * learned profile expired) calibrates it, and every later job reuses it. A calibration that fails (out of memory
 * at its first sizes, say) does not fail the job: the job runs on the manifest's prior, which is stored in the
 * profile's place with the reason, so later jobs do not fail the same way; it is measured again after
 * LEARNED_PROFILE_TTL_S.
 */
export async function runProfile(deps: ExecutorDeps, lease: JobLease, manifest: ModelManifest, precision: Precision): Promise<MemoryProfile> {
  const { config, device } = deps;
  const { profile, stored } = await loadProfile(deps.profiles, {
    manifest, precision, provider: device.provider, device: deps.deviceName, deviceId: deps.deviceId, marginFraction: config.MEMORY_MARGIN,
    nowMs: Date.now(), learnedTtlMs: config.LEARNED_PROFILE_TTL_S * 1000,
  });
  if (stored || !config.AUTO_CALIBRATE || device.kind !== 'gpu' || device.source !== 'probed') return profile;
  let calibrated: { profile: MemoryProfile; summary: string };
  try {
    calibrated = await deps.calibrate(manifest, precision);
  } catch (err) {
    const why = (err instanceof Error ? err.message : String(err)).slice(0, 300);
    const kept = { ...profile, calibrationError: why, updatedAt: new Date().toISOString() };
    await deps.profiles.put(kept);
    await lease.addEvent(lease.event('info', `calibration of ${manifest.id} in ${precision} on ${deps.deviceName} failed (${why}); `
      + `running on the manifest's prior (${Math.round(profile.marginFraction * 100)} % margin), measured again after ${config.LEARNED_PROFILE_TTL_S} s`, { calibrationError: why }));
    deps.log.warn({ model: manifest.id, precision, err: why }, 'calibration failed; using the prior');
    return kept;
  }
  const measured = { ...calibrated.profile, deviceId: deps.deviceId };
  await deps.profiles.put(measured);
  await lease.addEvent(lease.event('info', calibrated.summary));
  deps.log.info({ jobId: lease.jobId, model: manifest.id, precision, profile: measured }, 'calibrated');
  deps.metrics.calibrated(manifest.id, precision);
  return measured;
}
