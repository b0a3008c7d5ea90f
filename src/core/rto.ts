/**
 * Retransmission timeout estimator (RFC 6298 §2): SRTT and RTTVAR from samples, RTO =
 * SRTT + max(G, 4·RTTVAR) clamped to the profile's floor and ceiling, doubled on each
 * expiry (§5.5) and recomputed from the estimate when new data is acknowledged.
 * Karn's rule (§3) is the caller's: never sample a retransmitted segment.
 */

/** Clock granularity G in ms: our clock is the caller's, in whole milliseconds. */
const GRANULARITY_MS = 1;

export class RtoEstimator {
  srtt = 0;
  rttvar = 0;
  /** The current timeout, including back-off. */
  rto: number;
  private hasSample = false;

  constructor(
    private readonly initialMs: number,
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {
    this.rto = initialMs;
  }

  reset(): void {
    this.srtt = 0;
    this.rttvar = 0;
    this.hasSample = false;
    this.rto = this.initialMs;
  }

  /** RFC 6298 §2.2 (first sample) and §2.3 (later samples). */
  sample(rttMs: number): void {
    if (!this.hasSample) {
      this.srtt = rttMs;
      this.rttvar = rttMs / 2;
      this.hasSample = true;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - rttMs);
      this.srtt = 0.875 * this.srtt + 0.125 * rttMs;
    }
    this.rto = this.computed();
  }

  /** RFC 6298 §5.5: back off the timer. */
  backOff(): void {
    this.rto = Math.min(this.rto * 2, this.maxMs);
  }

  /** Drop any back-off once new data is acknowledged (§5.7 spirit). */
  restore(): void {
    this.rto = this.hasSample ? this.computed() : Math.max(this.initialMs, this.minMs);
  }

  private computed(): number {
    const raw = this.srtt + Math.max(GRANULARITY_MS, 4 * this.rttvar);
    return Math.min(this.maxMs, Math.max(this.minMs, raw));
  }
}
