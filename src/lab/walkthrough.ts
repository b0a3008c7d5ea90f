/**
 * `lab walkthrough`: the socket API of a C echo server and its client, one call at a
 * time, with both kernel sockets' states after every call (both ends are kernel sockets
 * on lo inside the lab namespace). First an orderly exchange with a half-close
 * (shutdown(SHUT_WR)), then an abortive close (SO_LINGER {1, 0}: close() sends RST).
 */
import { spawnSync } from 'node:child_process';
import { STATE_INFO, type TcpState } from '../core/states.js';
import type { SocketRecord } from '../records/socket.js';
import { NO_PAINT, type Paint } from '../sim/sequence-diagram.js';
import { parseIpv4 } from '../wire/ipv4.js';
import type { KernelSocket } from './kernel.js';
import { LabSession, sleep } from './session.js';

const LO = parseIpv4('127.0.0.1') as number;
export const ECHO_PORT = 7007;
/** Time for loopback softirqs and immediate ACKs to settle after a call. */
const SETTLE_MS = 15;

export interface WalkStep {
  readonly step: number;
  readonly who: 'server' | 'client';
  readonly call: string;
  readonly result: string;
  /** What it means, one line. */
  readonly comment: string;
  /** The client's socket, the server's connection socket and its listener, as the snapshot reads them (null: not in the table). */
  readonly client: TcpState | null;
  readonly server: TcpState | null;
  readonly listener: TcpState | null;
  readonly clientPort: number;
  /** `ss -tanH` in the namespace after the call (with --ss). */
  readonly ss?: string;
}

export interface WalkthroughResult {
  readonly namespace: string;
  readonly ok: boolean;
  readonly steps: readonly WalkStep[];
  readonly ms: number;
}

export async function runWalkthrough(options: { readonly ss?: boolean } = {}): Promise<WalkthroughResult> {
  const started = performance.now();
  const lab = LabSession.open({ tun: false });
  const steps: WalkStep[] = [];
  let ok = true;
  try {
    let client: KernelSocket | null = null;
    let conn: KernelSocket | null = null;
    let listener: KernelSocket | null = null;
    let clientPort = 0;
    const find = (records: readonly SocketRecord[], pred: (r: SocketRecord) => boolean): TcpState | null =>
      records.find(pred)?.state ?? null;
    const after = async (who: 'server' | 'client', comment: string, pseudo?: string, settleMs = SETTLE_MS): Promise<void> => {
      await sleep(settleMs);
      const call = pseudo !== undefined ? { call: pseudo, result: '' } : lab.calls[lab.calls.length - 1];
      const port = clientPort;
      // With --ss, ss runs before and after our read; a timer firing in between (the
      // delayed ACK) would make them disagree, so read again until both ss runs agree.
      let records = lab.snapshot();
      let ss: string | undefined;
      if (options.ss === true) {
        for (let i = 0; i < 5; i++) {
          const before = runSs(lab.ns.name);
          records = lab.snapshot();
          const after2 = runSs(lab.ns.name);
          ss = before;
          if (before === after2) break;
        }
      }
      steps.push({
        step: steps.length + 1,
        who,
        call: call?.call ?? '',
        result: call?.result ?? '',
        comment,
        client: port === 0 ? null : find(records, (r) => r.local.port === port && r.remote.port === ECHO_PORT),
        server: port === 0 ? null : find(records, (r) => r.local.port === ECHO_PORT && r.remote.port === port),
        listener: find(records, (r) => r.local.port === ECHO_PORT && r.remote.port === 0),
        clientPort: port,
        ...(ss !== undefined ? { ss } : {}),
      });
    };
    const enc = new TextEncoder();

    listener = lab.socket('server');
    await after('server', 'a socket exists but is in no table yet: CLOSED');
    listener.reuseAddr();
    listener.bind(LO, ECHO_PORT);
    await after('server', 'bound to an address, still not listening: CLOSED');
    listener.listen(8);
    await after('server', 'passive open: LISTEN, waiting for SYNs');
    client = lab.socket('client');
    await after('client', "the client's socket: CLOSED");
    client.connect(LO, ECHO_PORT);
    ok = client.writable(1000) && ok;
    clientPort = client.localPort();
    await after('client', 'SYN, SYN-ACK, ACK on lo: both ends ESTABLISHED; the server end waits in the accept queue');
    conn = listener.accept('server');
    if (conn === null) throw new Error('accept() found no connection');
    await after('server', 'accept() hands the established connection to the server');
    client.send(enc.encode('hello'));
    await after('client', 'data flows; states do not change');
    conn.readable(500);
    conn.recv(64);
    await after('server', 'the server reads the request');
    conn.send(enc.encode('hello'));
    await after('server', 'and echoes it');
    client.readable(500);
    client.recv(64);
    await after('client', 'the client reads the echo');
    client.shutdownWrite();
    // Read at once: the server's ACK of this FIN is a delayed ACK (~40 ms).
    await after('client', "half-close: the client's FIN is out; the server end is CLOSE-WAIT at once, the client waits for the ACK", undefined, 0);
    const port = clientPort;
    const waitStart = performance.now();
    while (performance.now() - waitStart < 1000) {
      if (lab.snapshot().some((r) => r.local.port === port && r.state === 'FIN_WAIT_2')) break;
      await sleep(5);
    }
    await after(
      'server',
      `the server's kernel acknowledges the FIN ${Math.round(performance.now() - waitStart)} ms later (a delayed ACK): client FIN-WAIT-2`,
      '(no call: the delayed ACK timer)',
    );
    conn.readable(500);
    conn.recv(64);
    await after('server', 'recv() returns 0: end of stream; the server may still send');
    conn.close();
    conn = null;
    await after('server', "the server's FIN: it passes LAST-ACK to CLOSED, the client (who closed first) waits in TIME-WAIT");
    client.close();
    client = null;
    await after('client', 'closing the file changes nothing on the wire: TIME-WAIT belongs to the kernel now');

    // Abortive close: SO_LINGER {1, 0} turns close() into a RST.
    client = lab.socket('client');
    clientPort = 0;
    await after('client', 'a second client');
    client.connect(LO, ECHO_PORT);
    ok = client.writable(1000) && ok;
    clientPort = client.localPort();
    await after('client', 'connected: ESTABLISHED on both ends');
    conn = listener.accept('server');
    if (conn === null) throw new Error('accept() found no connection');
    await after('server', 'accepted');
    client.lingerZero();
    await after('client', 'linger on with a zero timeout: close() will abort');
    client.close();
    client = null;
    await after('client', 'RST instead of FIN: the client socket is gone at once, no TIME-WAIT; the server end is CLOSED');
    conn.recv(64);
    await after('server', 'the server learns of the reset from recv(): ECONNRESET');
    conn.close();
    conn = null;
    await after('server', 'the server releases the dead socket');
    listener.close();
    listener = null;
    clientPort = 0;
    await after('server', 'no more LISTEN: the next SYN to this port gets a RST');
  } catch (e) {
    ok = false;
    throw e;
  } finally {
    lab.close();
  }
  return { namespace: lab.ns.name, ok: ok && expectedOk(steps), steps, ms: Math.round(performance.now() - started) };
}

/** The states the walkthrough must show after its key calls. */
function expectedOk(steps: readonly WalkStep[]): boolean {
  const at = (call: RegExp) => steps.find((s) => call.test(s.call));
  const listen = at(/^listen/);
  const shut = at(/^shutdown/);
  const acked = at(/delayed ACK/);
  return (
    listen?.listener === 'LISTEN' &&
    shut?.server === 'CLOSE_WAIT' &&
    acked?.client === 'FIN_WAIT_2' &&
    acked.server === 'CLOSE_WAIT' &&
    steps.some((s) => s.client === 'TIME_WAIT') &&
    steps.some((s) => /SO_LINGER/.test(s.call))
  );
}

function runSs(ns: string): string {
  const r = spawnSync('ip', ['netns', 'exec', ns, 'ss', '-tanH'], { encoding: 'utf8', timeout: 5000 });
  return r.status === 0 ? r.stdout : `ss failed: ${(r.stderr ?? '').trim()}`;
}

function show(s: TcpState | null): string {
  return s === null ? '-' : STATE_INFO[s].ss;
}

export function renderWalkthrough(r: WalkthroughResult, paint: Paint = NO_PAINT): string[] {
  const lines: string[] = [];
  lines.push(paint.bold('A C echo server and client, one socket call at a time') + paint.dim(`  (lo in ${r.namespace})`));
  lines.push('');
  lines.push(paint.bold(`${'#'.padStart(2)}  ${'who'.padEnd(6)}  ${'call = result'.padEnd(56)}  ${'client'.padEnd(10)}  ${'server'.padEnd(10)}  listener`));
  for (const s of r.steps) {
    const call = s.result === '' ? s.call : `${s.call} = ${s.result}`;
    lines.push(
      `${String(s.step).padStart(2)}  ${s.who.padEnd(6)}  ${paint.cyan(call.padEnd(56))}  ${paint.green(show(s.client).padEnd(10))}  ${paint.green(show(s.server).padEnd(10))}  ${paint.green(show(s.listener))}`,
    );
    lines.push(paint.dim(`${' '.repeat(12)}${s.comment}`));
  }
  lines.push('');
  lines.push(paint.dim("'-' = not in the kernel's table (CLOSED); states read by the snapshot after each call"));
  return lines;
}
