/**
 * Running a state scenario: open a session, stage the choreography, read the kernel's
 * socket through the snapshot, and (for `--hold`) keep everything alive while the user
 * looks, then clean up.
 */
import type { TcpState } from '../core/states.js';
import type { SocketRecord } from '../records/socket.js';
import type { CallRecord } from './kernel.js';
import { nextOrder, type LabEvent, type LabSegment } from './peer.js';
import { interrupted, LabSession } from './session.js';
import { STATE_SCENARIOS, type Observation } from './states.js';

export interface StateRunResult {
  readonly state: TcpState;
  readonly reproduced: boolean;
  readonly namespace: string;
  /** The kernel socket as the snapshot read it, or null (CLOSED has none). */
  readonly socket: SocketRecord | null;
  readonly segments: readonly LabSegment[];
  readonly kernelCalls: readonly CallRecord[];
  readonly peerEvents: readonly LabEvent[];
  /** The kernel socket's state after each step, as the snapshot read it. */
  readonly kernelStates: readonly Observation[];
  /** How the lab gets there. */
  readonly how: string;
  /** Why it was not reproduced, or null. */
  readonly failure: string | null;
  /** Milliseconds to reproduce (the hold not included). */
  readonly ms: number;
  /** Namespaces of crashed labs this run removed. */
  readonly removedStale: readonly string[];
}

export interface RunStateOptions {
  /** Seconds to keep the namespace after reproducing (0: clean up at once). */
  readonly holdSeconds?: number;
  /** Called once the state is reproduced, before the hold (to print and to show the ss command). */
  readonly onReady?: (r: StateRunResult) => void;
  /** Called every second of the hold. */
  readonly onHoldTick?: (elapsedMs: number) => void;
}

/** Lets in-flight segments land before the table is read. */
const SETTLE_MS = 30;

function pick(records: readonly SocketRecord[], match: (r: SocketRecord) => boolean): SocketRecord | null {
  return records.find(match) ?? null;
}

export async function runState(state: TcpState, options: RunStateOptions = {}): Promise<StateRunResult> {
  const scenario = STATE_SCENARIOS[state];
  const started = performance.now();
  const lab = LabSession.open({ tun: true });
  try {
    const observations: Observation[] = [];
    let last: string | null = '';
    const observe = (match: (r: SocketRecord) => boolean): void => {
      lab.driver.pump(5);
      const r = pick(lab.snapshot(), match);
      const key = r === null ? null : `${r.state}/${r.linuxState}`;
      if (key === last) return;
      last = key;
      observations.push({ order: nextOrder(), at: lab.now(), state: r?.state ?? null, linuxState: r?.linuxState ?? null });
    };
    const staged = scenario.stage(lab, observe);
    lab.driver.pump(SETTLE_MS);
    observe(staged.match);
    const socket = pick(lab.snapshot(), staged.match);
    const reproduced =
      staged.failure === null &&
      (staged.reproducedWithout !== undefined ? staged.reproducedWithout() && socket === null : socket?.state === state);
    const ms = Math.round(performance.now() - started);
    const result = (): StateRunResult => ({
      state,
      reproduced,
      namespace: lab.ns.name,
      socket,
      segments: [...lab.driver.segments],
      kernelCalls: [...lab.calls],
      peerEvents: [...lab.driver.events],
      kernelStates: observations,
      how: scenario.how,
      failure:
        staged.failure ??
        (reproduced ? null : `the kernel socket is ${socket === null ? 'absent' : socket.state} instead of ${state}`),
      ms,
      removedStale: lab.removedStale,
    });
    options.onReady?.(result());
    const hold = options.holdSeconds ?? 0;
    if (hold > 0 && interrupted() === null) {
      await lab.hold(hold * 1000, options.onHoldTick);
    }
    return result();
  } finally {
    lab.close();
  }
}
