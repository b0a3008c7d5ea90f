/**
 * A one-line progress bar on stderr. A dozen lines here rather than a dependency
 * (cli-progress): it only needs "octets read of the file size" redrawn at most 10 times a
 * second on a TTY stderr, and the package and lockfile stay untouched.
 */
/** A one-line progress bar on stderr, redrawn at most every 100 ms. */
export class ProgressBar {
  private last = 0;
  private shown = false;

  update(done: number, total: number): void {
    const now = Date.now();
    if (now - this.last < 100 && done < total) return;
    this.last = now;
    this.shown = true;
    const width = 30;
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const full = Math.round(frac * width);
    process.stderr.write(`\r[${'█'.repeat(full)}${'░'.repeat(width - full)}] ${(frac * 100).toFixed(0).padStart(3)}%  ${(done / 1048576).toFixed(1)}/${(total / 1048576).toFixed(1)} MiB`);
  }

  done(): void {
    if (this.shown) process.stderr.write('\r\u001b[K');
  }
}
