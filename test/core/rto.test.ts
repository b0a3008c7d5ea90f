/** RFC 6298 retransmission timer arithmetic. */
import { describe, expect, it } from 'vitest';
import { LINUX_PROFILE, RFC9293_PROFILE } from '../../src/core/profile.js';
import { RtoEstimator } from '../../src/core/rto.js';

const rfc = (): RtoEstimator => new RtoEstimator(1000, 1000, 60_000);
const linux = (): RtoEstimator => new RtoEstimator(1000, 200, 120_000);

describe('RtoEstimator (RFC 6298)', () => {
  it('§2.1: starts at the initial RTO of 1 s', () => {
    expect(rfc().rto).toBe(1000);
    expect(linux().rto).toBe(1000);
  });

  it('§2.2: first sample R sets SRTT=R, RTTVAR=R/2, RTO=SRTT+4·RTTVAR', () => {
    const e = linux();
    e.sample(300);
    expect(e.srtt).toBe(300);
    expect(e.rttvar).toBe(150);
    expect(e.rto).toBe(300 + 4 * 150);
  });

  it('§2.3: later samples use alpha=1/8 and beta=1/4', () => {
    const e = linux();
    e.sample(400); // srtt 400, rttvar 200
    e.sample(200);
    // RTTVAR = 3/4·200 + 1/4·|400-200| = 200; SRTT = 7/8·400 + 1/8·200 = 375
    expect(e.rttvar).toBe(200);
    expect(e.srtt).toBe(375);
    expect(e.rto).toBe(375 + 800);
  });

  it('§2.3: RTTVAR is updated with the old SRTT (before SRTT changes)', () => {
    const e = linux();
    e.sample(1000); // srtt 1000, rttvar 500
    e.sample(0);
    expect(e.rttvar).toBe(0.75 * 500 + 0.25 * 1000);
    expect(e.srtt).toBe(875);
  });

  it('§2.4: RTO is rounded up to the floor (1 s under RFC 6298)', () => {
    const e = rfc();
    e.sample(10);
    expect(e.rto).toBe(1000);
  });

  it('linux floor is 200 ms', () => {
    const e = linux();
    e.sample(10);
    expect(e.rto).toBe(200);
  });

  it('§2.4: a zero RTT still gives at least the floor', () => {
    const e = linux();
    e.sample(0);
    expect(e.rto).toBe(200);
  });

  it('clock granularity G: RTO >= SRTT + G when RTTVAR is 0', () => {
    const e = new RtoEstimator(1000, 0, 120_000);
    e.sample(500);
    for (let i = 0; i < 200; i++) e.sample(500); // RTTVAR decays towards 0
    expect(e.rto).toBeGreaterThanOrEqual(501);
    expect(e.rto).toBeLessThan(510);
  });

  it('§2.5: RTO is capped by the ceiling', () => {
    const e = rfc();
    e.sample(50_000);
    expect(e.rto).toBe(60_000);
  });

  it('§5.5: each back-off doubles the RTO', () => {
    const e = rfc();
    e.backOff();
    expect(e.rto).toBe(2000);
    e.backOff();
    expect(e.rto).toBe(4000);
  });

  it('§5.5: the back-off stops at the ceiling', () => {
    const e = rfc();
    for (let i = 0; i < 10; i++) e.backOff();
    expect(e.rto).toBe(60_000);
    const l = linux();
    for (let i = 0; i < 10; i++) l.backOff();
    expect(l.rto).toBe(120_000);
  });

  it('restore() drops the back-off and recomputes from the estimate', () => {
    const e = linux();
    e.sample(300);
    e.backOff();
    e.backOff();
    expect(e.rto).toBe(3600);
    e.restore();
    expect(e.rto).toBe(900);
  });

  it('restore() without samples goes back to the initial RTO', () => {
    const e = rfc();
    e.backOff();
    e.restore();
    expect(e.rto).toBe(1000);
  });

  it('reset() forgets samples and back-off', () => {
    const e = linux();
    e.sample(300);
    e.backOff();
    e.reset();
    expect(e.rto).toBe(1000);
    expect(e.srtt).toBe(0);
    expect(e.rttvar).toBe(0);
    e.sample(100); // counted as a first sample again
    expect(e.rttvar).toBe(50);
  });

  it('the profiles carry RFC 6298 and Linux limits', () => {
    expect([RFC9293_PROFILE.initialRtoMs, RFC9293_PROFILE.minRtoMs]).toEqual([1000, 1000]);
    expect([LINUX_PROFILE.initialRtoMs, LINUX_PROFILE.minRtoMs, LINUX_PROFILE.maxRtoMs]).toEqual([1000, 200, 120_000]);
  });
});
