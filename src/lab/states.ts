/**
 * One choreography per TCP state: what the kernel's application does (real system calls
 * in the lab namespace) and how the peer (our endpoint on the TUN) plays along or
 * deviates, so that the kernel's socket ends up in that state and stays there.
 *
 * Every wait is bounded; a step that does not happen in time leaves the run
 * "not reproduced" with the reason, it never hangs.
 */
import { TCP_STATES, type TcpState } from '../core/states.js';
import type { SocketRecord } from '../records/socket.js';
import type { KernelSocket } from './kernel.js';
import { withholdAckOfKernelFin, withholdPureAcks, type PeerConn, type PeerConnOptions, type WithholdRule } from './peer.js';
import { KERNEL_ADDR, PEER_ADDR, type LabSession } from './session.js';

export const KERNEL_PORT = 7000;
export const PEER_PORT = 9000;
export const PEER_CLIENT_PORT = 40000;
/** A port nothing listens on (CLOSED). */
export const CLOSED_PORT = 7001;

/** How long one step may take before the run gives up. */
const STEP_MS = 3000;

export interface Observation {
  readonly order: number;
  readonly at: number;
  readonly state: TcpState | null;
  readonly linuxState: number | null;
}

export interface Staged {
  /** Which kernel socket the run is about. */
  readonly match: (r: SocketRecord) => boolean;
  /** Reproduced without a socket (CLOSED: the RST was seen). */
  readonly reproducedWithout?: () => boolean;
  /** Why it failed, when a step timed out. */
  readonly failure: string | null;
}

export interface StateScenario {
  readonly state: TcpState;
  /** One line: how the lab gets there. */
  readonly how: string;
  /** The kernel-side calls and the peer's script, then the socket to look at. */
  readonly stage: (lab: LabSession, observe: (match: (r: SocketRecord) => boolean) => void) => Staged;
}

const localIs = (port: number) => (r: SocketRecord) => r.local.port === port && r.remote.port === 0;
const remoteIs = (port: number) => (r: SocketRecord) => r.remote.port === port;
const connPair = (kernelPort: number, peerPort: number) => (r: SocketRecord) =>
  r.local.port === kernelPort && r.remote.port === peerPort;

/** The kernel connects to the peer's listening endpoint; both sides end ESTABLISHED. */
function kernelConnects(
  lab: LabSession,
  withhold?: WithholdRule,
  before?: (c: PeerConn) => void,
): { k: KernelSocket; conn: PeerConn | null; failure: string | null } {
  const peer = lab.driver;
  peer.listen(PEER_PORT, {
    answer: true,
    options: {
      ...(withhold !== undefined ? { withhold } : {}),
      ...(before !== undefined ? { beforeKernelSegment: (_s, c) => before(c) } : {}),
    },
  });
  const k = lab.socket('kernel');
  k.connect(PEER_ADDR, PEER_PORT);
  const ok = peer.pumpUntil(() => k.writable(0), STEP_MS);
  const conn = [...peer.conns.values()][0] ?? null;
  return { k, conn, failure: ok ? null : 'the handshake did not complete' };
}

/** The kernel listens and accepts; the peer connects. */
function peerConnects(
  lab: LabSession,
  options: PeerConnOptions = {},
): { l: KernelSocket; a: KernelSocket | null; conn: PeerConn; failure: string | null } {
  const peer = lab.driver;
  const l = lab.socket('kernel');
  l.reuseAddr();
  l.bind(KERNEL_ADDR, KERNEL_PORT);
  l.listen(16);
  const conn = peer.connect(PEER_ADDR, PEER_CLIENT_PORT, KERNEL_ADDR, KERNEL_PORT, options);
  const ok = peer.pumpUntil(() => conn.state === 'ESTABLISHED' && l.readable(0), STEP_MS);
  const a = ok ? l.accept('kernel') : null;
  return { l, a, conn, failure: ok && a !== null ? null : 'the handshake did not complete' };
}

function until(lab: LabSession, done: () => boolean, what: string): string | null {
  return lab.driver.pumpUntil(done, STEP_MS) ? null : what;
}

export const STATE_SCENARIOS: { readonly [S in TcpState]: StateScenario } = {
  CLOSED: {
    state: 'CLOSED',
    how: `the peer sends a SYN to port ${CLOSED_PORT}, where no socket exists; the kernel answers RST,ACK`,
    stage: (lab) => {
      const conn = lab.driver.connect(PEER_ADDR, PEER_CLIENT_PORT, KERNEL_ADDR, CLOSED_PORT);
      const failure = until(lab, () => conn.resetByKernel, 'no RST came back');
      return { match: connPair(CLOSED_PORT, PEER_CLIENT_PORT), reproducedWithout: () => conn.resetByKernel, failure };
    },
  },
  LISTEN: {
    state: 'LISTEN',
    how: `the kernel's application calls socket(), bind() to port ${KERNEL_PORT} and listen()`,
    stage: (lab, observe) => {
      const l = lab.socket('kernel');
      l.reuseAddr();
      l.bind(KERNEL_ADDR, KERNEL_PORT);
      observe(localIs(KERNEL_PORT));
      l.listen(16);
      return { match: localIs(KERNEL_PORT), failure: null };
    },
  },
  SYN_SENT: {
    state: 'SYN_SENT',
    how: 'the kernel connects to the peer, whose host never answers its SYN (the kernel retransmits it)',
    stage: (lab) => {
      lab.driver.listen(PEER_PORT, { answer: false, options: {} });
      const k = lab.socket('kernel');
      k.connect(PEER_ADDR, PEER_PORT);
      const failure = until(lab, () => lab.driver.unanswered > 0, 'the kernel SYN never reached the TUN');
      return { match: remoteIs(PEER_PORT), failure };
    },
  },
  SYN_RECEIVED: {
    state: 'SYN_RECEIVED',
    how: 'the peer sends a SYN to the kernel listener and withholds the final ACK of the handshake',
    stage: (lab, observe) => {
      const l = lab.socket('kernel');
      l.reuseAddr();
      l.bind(KERNEL_ADDR, KERNEL_PORT);
      l.listen(16);
      observe(localIs(KERNEL_PORT));
      const conn = lab.driver.connect(PEER_ADDR, PEER_CLIENT_PORT, KERNEL_ADDR, KERNEL_PORT, { withhold: withholdPureAcks });
      const failure = until(lab, () => conn.kernelSyns > 0 && conn.state === 'ESTABLISHED', 'no SYN,ACK from the kernel');
      return { match: connPair(KERNEL_PORT, PEER_CLIENT_PORT), failure };
    },
  },
  ESTABLISHED: {
    state: 'ESTABLISHED',
    how: 'the kernel connects to the peer, which completes the three-way handshake',
    stage: (lab) => {
      const { failure } = kernelConnects(lab);
      return { match: remoteIs(PEER_PORT), failure };
    },
  },
  FIN_WAIT_1: {
    state: 'FIN_WAIT_1',
    how: "the kernel's application calls shutdown(SHUT_WR); the peer never acknowledges the FIN",
    stage: (lab, observe) => {
      const { k, conn, failure } = kernelConnects(lab, withholdAckOfKernelFin);
      if (failure !== null || conn === null) return { match: remoteIs(PEER_PORT), failure };
      observe(remoteIs(PEER_PORT));
      k.shutdownWrite();
      return {
        match: remoteIs(PEER_PORT),
        failure: until(lab, () => conn.kernelFins > 0 && conn.state === 'CLOSE_WAIT', 'no FIN from the kernel'),
      };
    },
  },
  FIN_WAIT_2: {
    state: 'FIN_WAIT_2',
    how: "the kernel's application calls shutdown(SHUT_WR); the peer acknowledges the FIN but never sends its own",
    stage: (lab, observe) => {
      const { k, conn, failure } = kernelConnects(lab);
      if (failure !== null || conn === null) return { match: remoteIs(PEER_PORT), failure };
      observe(remoteIs(PEER_PORT));
      k.shutdownWrite();
      return {
        match: remoteIs(PEER_PORT),
        failure: until(lab, () => conn.state === 'CLOSE_WAIT', 'no FIN from the kernel'),
      };
    },
  },
  CLOSE_WAIT: {
    state: 'CLOSE_WAIT',
    how: "the peer closes (FIN); the kernel acknowledges it, and its application never calls close()",
    stage: (lab, observe) => {
      const { conn, failure } = peerConnects(lab);
      const match = connPair(KERNEL_PORT, PEER_CLIENT_PORT);
      if (failure !== null) return { match, failure };
      observe(match);
      lab.driver.call(conn, 'close()', () => conn.endpoint.close(lab.now()));
      return { match, failure: until(lab, () => conn.state === 'FIN_WAIT_2', "the kernel did not acknowledge the peer's FIN") };
    },
  },
  CLOSING: {
    state: 'CLOSING',
    how:
      "the kernel's application calls shutdown(SHUT_WR); the peer's FIN crosses it (sent before the kernel's FIN " +
      "is processed, so it does not acknowledge it), and the peer withholds the ACK of the kernel's FIN",
    stage: (lab, observe) => {
      let closed = false;
      const { k, conn, failure } = kernelConnects(lab, withholdAckOfKernelFin, (c) => {
        if (!closed && c.kernelFins > 0 && c.state === 'ESTABLISHED') {
          closed = true;
          lab.driver.call(c, 'close() (at the same moment as the kernel)', () => c.endpoint.close(lab.now()));
        }
      });
      if (failure !== null || conn === null) return { match: remoteIs(PEER_PORT), failure };
      observe(remoteIs(PEER_PORT));
      k.shutdownWrite();
      return {
        match: remoteIs(PEER_PORT),
        failure: until(lab, () => conn.state === 'TIME_WAIT', "the kernel did not acknowledge the peer's FIN"),
      };
    },
  },
  LAST_ACK: {
    state: 'LAST_ACK',
    how:
      "the peer closes (FIN), the kernel's application answers with shutdown(SHUT_WR) (its FIN), and the peer " +
      'withholds the last ACK',
    stage: (lab, observe) => {
      const { a, conn, failure } = peerConnects(lab, { withhold: withholdAckOfKernelFin });
      const match = connPair(KERNEL_PORT, PEER_CLIENT_PORT);
      if (failure !== null || a === null) return { match, failure };
      lab.driver.call(conn, 'close()', () => conn.endpoint.close(lab.now()));
      const f1 = until(lab, () => conn.state === 'FIN_WAIT_2', "the kernel did not acknowledge the peer's FIN");
      if (f1 !== null) return { match, failure: f1 };
      observe(match);
      a.shutdownWrite();
      return { match, failure: until(lab, () => conn.state === 'TIME_WAIT', 'no FIN from the kernel') };
    },
  },
  TIME_WAIT: {
    state: 'TIME_WAIT',
    how: "the kernel's application closes first; the peer acknowledges the FIN and then closes too",
    stage: (lab, observe) => {
      const { k, conn, failure } = kernelConnects(lab);
      if (failure !== null || conn === null) return { match: remoteIs(PEER_PORT), failure };
      observe(remoteIs(PEER_PORT));
      k.close();
      const f1 = until(lab, () => conn.state === 'CLOSE_WAIT', 'no FIN from the kernel');
      if (f1 !== null) return { match: remoteIs(PEER_PORT), failure: f1 };
      observe(remoteIs(PEER_PORT));
      lab.driver.call(conn, 'close()', () => conn.endpoint.close(lab.now()));
      return {
        match: remoteIs(PEER_PORT),
        failure: until(lab, () => conn.state === 'CLOSED', "the kernel did not acknowledge the peer's FIN"),
      };
    },
  },
};

/** The order `lab all` runs them in (the RFC diagram's order). */
export const LAB_STATE_ORDER: readonly TcpState[] = TCP_STATES;

