import { SingleBar } from 'cli-progress';

/** A progress bar on stderr when it is a terminal (stdout stays clean for the results); silent otherwise. */
export class Progress {
  private readonly bar = process.stderr.isTTY
    ? new SingleBar({ stream: process.stderr, format: '{bar} {value}/{total} images | {state}', hideCursor: true, clearOnComplete: false })
    : undefined;
  private started = false;

  update(done: number, total: number, state: string): void {
    if (!this.bar) return;
    if (!this.started) {
      this.bar.start(total, done, { state });
      this.started = true;
    }
    this.bar.setTotal(total);
    this.bar.update(done, { state });
  }

  stop(): void {
    if (this.started) this.bar?.stop();
  }
}
