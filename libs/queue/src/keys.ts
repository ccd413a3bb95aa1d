/** Every Redis key gpuq writes, in one place, under the deployment's prefix. */
export class Keys {
  constructor(readonly prefix: string) {}
  job(id: string) {
    return `${this.prefix}:job:${id}`;
  }
  jobEvents(id: string) {
    return `${this.prefix}:job:${id}:events`;
  }
  jobPlacements(id: string) {
    return `${this.prefix}:job:${id}:placements`;
  }
  jobResults(id: string) {
    return `${this.prefix}:job:${id}:results`;
  }
  jobsIndex() {
    return `${this.prefix}:jobs`;
  }
  idempotency(key: string) {
    return `${this.prefix}:idem:${key}`;
  }
  worker(id: string) {
    return `${this.prefix}:worker:${id}`;
  }
  workerPattern() {
    return `${this.prefix}:worker:*`;
  }
  profile(model: string, precision: string, provider: string, device: string) {
    return `${this.prefix}:profile:${model}|${precision}|${provider}|${device}`;
  }
  profilePattern() {
    return `${this.prefix}:profile:*`;
  }
  /** BullMQ's own prefix: queues live under `<prefix>:bull:<class>:*`. */
  bullPrefix() {
    return `${this.prefix}:bull`;
  }
}
