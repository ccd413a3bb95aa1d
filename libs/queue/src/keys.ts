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
