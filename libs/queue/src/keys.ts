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
  /** Finished jobs by the time they finished (a sorted set): retention deletes them JOB_TTL_S later. */
  jobsFinished() {
    return `${this.prefix}:jobs:finished`;
  }
  /**
   * Placements recorded on a job but not yet known to be in their class queue (a sorted set of `<job id>:<placement>`
   * by the time they were recorded): whoever recorded one places it and removes it; a sweep places what is left.
   */
  placementOutbox() {
    return `${this.prefix}:outbox`;
  }
  /** Class queues that have ever been given a placement (a set): those a sweep looks at for stranded jobs. */
  placedClasses() {
    return `${this.prefix}:classes:placed`;
  }
  /** Since when each class queue has had no live worker serving it (a hash of class name to epoch ms). */
  unservedClasses() {
    return `${this.prefix}:classes:unserved`;
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
  /** A memory profile of one device instance (`deviceId`: host and GPU UUID). */
  profile(model: string, precision: string, provider: string, deviceId: string) {
    return `${this.prefix}:profile:${model}|${precision}|${provider}|${deviceId}`;
  }
  profilePattern() {
    return `${this.prefix}:profile:*`;
  }
  /** BullMQ's own prefix: queues live under `<prefix>:bull:<class>:*`. */
  bullPrefix() {
    return `${this.prefix}:bull`;
  }
  /** Jobs of one tenant, newest last (a sorted set by creation time). */
  tenantJobs(tenant: string) {
    return `${this.prefix}:tenant:${tenant}:jobs`;
  }
  /** Every API key's record, by key id (a hash). */
  apiKeys() {
    return `${this.prefix}:apikeys`;
  }
  /** One key's rate limiter state (GCRA's theoretical arrival time). */
  rateLimit(keyId: string) {
    return `${this.prefix}:usage:${keyId}:rate`;
  }
  /** One key's unfinished jobs (a sorted set by reservation time). */
  activeJobs(keyId: string) {
    return `${this.prefix}:usage:${keyId}:active`;
  }
  /** Images one key submitted on one UTC day. */
  imagesOnDay(keyId: string, day: string) {
    return `${this.prefix}:usage:${keyId}:images:${day}`;
  }
  /** Jobs with a webhook not yet handed to the webhook queue. */
  webhooksPending() {
    return `${this.prefix}:webhooks:pending`;
  }
  /** BullMQ prefix of the webhook queue, apart from the class queues (`bullPrefix`) that fleet views list. */
  webhookBullPrefix() {
    return `${this.prefix}:hooks`;
  }
}
