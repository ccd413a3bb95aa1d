/**
 * Runs `task` every `everyMs`, never two at once (a slow run is not overlapped by the next), its errors handed to
 * `onError`; `stop` waits for a run in progress, so a shutdown does not cut one in half.
 */
export class Periodic {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(private readonly everyMs: number, private readonly task: () => Promise<void>, private readonly onError: (err: unknown) => void) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.task().catch(this.onError).finally(() => (this.running = undefined));
    }, this.everyMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
