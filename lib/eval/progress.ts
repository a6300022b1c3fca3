// A progress bar on stderr: redrawn in place on a terminal, one line per 10 % otherwise.

export class Progress {
  private count = 0;
  private lastDecile = 0;
  private readonly started = Date.now();

  constructor(private readonly total: number, private readonly enabled: boolean) {}

  tick(): void {
    this.count++;
    if (!this.enabled) return;
    const fraction = this.count / this.total;
    const rate = this.count / Math.max((Date.now() - this.started) / 1000, 1e-3);
    if (process.stderr.isTTY) {
      if (this.count % 20 !== 0 && this.count !== this.total) return;
      const width = 30;
      const filled = Math.round(fraction * width);
      process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.count}/${this.total} images, ${rate.toFixed(1)}/s`);
    } else {
      const decile = Math.floor(fraction * 10);
      if (decile > this.lastDecile) {
        this.lastDecile = decile;
        process.stderr.write(`${decile * 10}% (${this.count}/${this.total} images, ${rate.toFixed(1)}/s)\n`);
      }
    }
  }

  done(): void {
    if (this.enabled && process.stderr.isTTY) process.stderr.write('\n');
  }
}
