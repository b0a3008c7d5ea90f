/**
 * English texts for `tcpstate explain`: one record per canonical state, and the
 * headings and labels the renderer uses. The types shared with the Chinese texts
 * (texts-zh.ts) live here.
 *
 * Linux facts are those of current kernels (net/ipv4/tcp_timer.c, tcp_minisocks.c,
 * tcp.c, Documentation/networking/ip-sysctl.rst); defaults are quoted as shipped.
 */
import type { TcpState } from '../core/states.js';

/** Who normally enters a state: the client (active opener), the server (listener), or either side. */
export type Who = 'client' | 'server' | 'either';

export const WHO_VALUES = ['client', 'server', 'either'] as const satisfies readonly Who[];

/** Everything `explain` says about one state, in one language. */
export interface StateText {
  /** One line. */
  readonly summary: string;
  readonly meaning: string;
  readonly howEntered: { readonly who: Who; readonly how: string };
  readonly howLeft: string;
  /** One line for the overview. */
  readonly lifetimeBrief: string;
  readonly lifetimeOnLinux: string;
  /** One line for the overview: what many of them mean, with the first thing to do. */
  readonly productionBrief: string;
  readonly inProduction: string;
  /** Concrete steps, one per item. */
  readonly whatToDo: readonly string[];
}

export type StateTexts = { readonly [S in TcpState]: StateText };

/** Headings and small words of the rendered pages. */
export interface Labels {
  readonly overviewTitle: string;
  readonly overviewHint: string;
  /** Row labels in the overview. */
  readonly rowLifetime: string;
  readonly rowMany: string;
  readonly knownAs: string;
  readonly nameRfc: string;
  readonly nameSs: string;
  readonly nameNetstat: string;
  readonly nameLinux: string;
  readonly nameId: string;
  readonly acceptedSpellings: string;
  /** Extra Linux numbers: 12 for SYN_RECEIVED, 13 for CLOSED. */
  readonly linuxNewSynRecv: string;
  readonly linuxBoundInactive: string;
  readonly meaning: string;
  readonly howEntered: string;
  readonly whoIs: string;
  readonly who: { readonly [W in Who]: string };
  readonly howLeft: string;
  readonly lifetimeOnLinux: string;
  readonly inProduction: string;
  readonly whatToDo: string;
  readonly neighbours: string;
  readonly incoming: string;
  readonly outgoing: string;
  readonly noEdges: string;
  readonly sends: string;
  readonly kindReset: string;
  readonly kindAbort: string;
  readonly kindTimeout: string;
  readonly linuxOnly: string;
  readonly legend: string;
  readonly tryIt: string;
  /** Punctuation around inserted values: ASCII in English, full-width in Chinese. */
  readonly punct: {
    readonly colon: string;
    readonly comma: string;
    readonly semicolon: string;
    readonly open: string;
    readonly close: string;
  };
}

export const LABELS_EN: Labels = {
  overviewTitle: 'The 11 TCP connection states, in the order of the state diagram',
  overviewHint:
    '`tcpstate explain STATE` shows one state in depth; STATE may be spelled as the RFC, ss or netstat spell it (estab, syn-recv, time-wait, ...).',
  rowLifetime: 'lifetime',
  rowMany: 'if many',
  knownAs: 'Known as',
  nameRfc: 'RFC',
  nameSs: 'ss',
  nameNetstat: 'netstat',
  nameLinux: 'Linux state',
  nameId: 'id',
  acceptedSpellings: 'Accepted input (any case, with or without - and _)',
  linuxNewSynRecv: '12 (NEW_SYN_RECV) for a request socket of a listener',
  linuxBoundInactive: '13 (BOUND_INACTIVE) for a socket that is only bound',
  meaning: 'What it means',
  howEntered: 'How it is entered',
  whoIs: 'who',
  who: { client: 'the client', server: 'the server', either: 'either side' },
  howLeft: 'How it is left',
  lifetimeOnLinux: 'How long it lasts on Linux',
  inProduction: 'When there are many of them',
  whatToDo: 'What to do',
  neighbours: 'Neighbours in the diagram',
  incoming: 'Entered from',
  outgoing: 'Leaves to',
  noEdges: '(none)',
  sends: 'sends',
  kindReset: 'reset',
  kindAbort: 'abort',
  kindTimeout: 'timeout',
  linuxOnly: 'Linux',
  legend:
    '[reset], [abort], [timeout]: edges outside the classic diagram; [Linux]: what the Linux kernel does beyond the RFC.',
  tryIt: 'Try it',
  punct: { colon: ': ', comma: ', ', semicolon: '; ', open: ' (', close: ')' },
};

export const TEXTS_EN: StateTexts = {
  CLOSED: {
    summary: 'No connection: where every connection starts and where it ends.',
    meaning:
      'CLOSED is the absence of a connection; the RFC calls it fictional because no connection record exists. ' +
      'On Linux a TCP socket reports state 7 (CLOSE) while it exists as a file descriptor but neither listens nor ' +
      'has a connection: freshly created, bound but unused, or left over after its connection ended by a reset, ' +
      'a failed connect() or a timeout while the application still holds the descriptor.',
    howEntered: {
      who: 'either',
      how:
        'Every socket starts here. Connections come back here from LAST-ACK when the final ACK arrives, from ' +
        'TIME-WAIT when its timer fires, and from any state on a reset (RST), an abort, or when retransmissions run out.',
    },
    howLeft:
      'A server calls listen() and moves to LISTEN; a client calls connect(), sends a SYN and moves to SYN-SENT. ' +
      'Once the descriptor is closed, the socket is gone.',
    lifetimeBrief: 'until the descriptor is closed (no timer)',
    lifetimeOnLinux:
      'No timer applies: a socket in state 7 lasts as long as the application keeps its descriptor open. ' +
      'ss and /proc/net/tcp only list sockets the kernel still keeps in its lookup tables, so a plain closed socket ' +
      'is usually invisible there. Recent kernels report a socket that is bound but neither listening nor ' +
      'connected as state 13 (BOUND_INACTIVE), which tools show as CLOSED.',
    productionBrief: 'descriptors kept after the connection died: check the error paths',
    inProduction:
      'A process whose socket descriptors keep growing while its live connections do not is leaking closed ' +
      'sockets: after a failed or reset connection the code never closed the descriptor. At the limit the process ' +
      'fails with "Too many open files". Programs that bind many ports in advance also hold such sockets.',
    whatToDo: [
      'Compare the socket descriptors of a process (`ls -l /proc/PID/fd`, `lsof -p PID`) with its live connections ' +
        '(`tcpstate ls`); a gap that keeps growing is a descriptor leak.',
      'Close the socket on every error path, including after a failed connect() and after a reset.',
      'Nothing to tune in the kernel: no sysctl releases what the application itself holds.',
    ],
  },

  LISTEN: {
    summary: 'A server socket waiting for incoming connections.',
    meaning:
      'The socket owns a local address and port and accepts SYNs from anyone. It never carries data itself: each ' +
      'handshake that completes creates a new, separate connected socket, which the application takes with accept(). ' +
      'On Linux a listener has two queues: half-open requests (the SYN queue) and finished connections waiting ' +
      'for accept() (the accept queue).',
    howEntered: {
      who: 'server',
      how:
        'A server calls bind() and listen() on a CLOSED socket. In the RFC model a half-open connection in ' +
        'SYN-RECEIVED that is reset also falls back to LISTEN; on Linux the listener never left LISTEN in the first place.',
    },
    howLeft:
      'Only close() by the application, or the process exiting, takes it back to CLOSED. Incoming SYNs do not move ' +
      'the listener: Linux creates request sockets next to it.',
    lifetimeBrief: 'until the server closes it (no timer)',
    lifetimeOnLinux:
      'No timer applies; a listener lives as long as the process keeps it open. For a listening socket, ss shows ' +
      'the current accept-queue length as Recv-Q and its limit as Send-Q. The limit is the backlog passed to ' +
      'listen(), capped by net.core.somaxconn (4096 by default since kernel 5.4, 128 before).',
    productionBrief: 'one per service port; a full queue means the application accepts too slowly',
    inProduction:
      'The number of listeners is the number of services and ports, so it hardly changes; a missing one means the ' +
      'service is down or bound to another address. The figure to watch is the queue: Recv-Q close to Send-Q means ' +
      'the application calls accept() too slowly and new handshakes are being dropped (the ListenOverflows and ' +
      'ListenDrops counters grow).',
    whatToDo: [
      '`ss -ltnp` shows every listener with its process and its queue.',
      'When the accept queue is full, first make the application accept faster (more acceptors or workers, no ' +
        'blocking work in the accept loop), then raise the listen() backlog together with net.core.somaxconn.',
      'Check the drop counters with `nstat -az TcpExtListenOverflows TcpExtListenDrops`; `tcpstate doctor` reads them too.',
    ],
  },

  SYN_SENT: {
    summary: 'A client has sent its SYN and is waiting for the server to answer.',
    meaning:
      'The first step of the three-way handshake is on its way. The socket knows where it wants to go but has heard ' +
      'nothing back yet, and no data can flow. Normally this lasts one round trip.',
    howEntered: {
      who: 'client',
      how:
        'The application calls connect() (the RFC\'s active OPEN) on a CLOSED socket. The kernel picks an ephemeral ' +
        'port if none was bound, sends a SYN and starts the retransmission timer.',
    },
    howLeft:
      'A SYN-ACK from the server completes the handshake: the client answers with an ACK and is ESTABLISHED. A RST ' +
      'in reply means nothing listens there: connect() fails with ECONNREFUSED and the socket is CLOSED. An ICMP ' +
      'unreachable error aborts the attempt as well. A bare SYN from the other side (simultaneous open, rare) leads ' +
      'to SYN-RECEIVED. Without any answer the attempt times out.',
    lifetimeBrief: 'at most about 127 s (tcp_syn_retries = 6)',
    lifetimeOnLinux:
      'Bounded by net.ipv4.tcp_syn_retries, default 6. The SYN is resent after 1, 2, 4, 8, 16 and 32 seconds (the ' +
      'wait doubles each time) and after a last 64-second wait connect() fails with ETIMEDOUT: about 127 s in all. ' +
      'TCP_USER_TIMEOUT on the socket, or the application\'s own connect timeout, can end it sooner.',
    productionBrief: 'the destination is down, drops SYNs, or its listen queue is full',
    inProduction:
      'A few on a busy client are normal. Many of them towards the same destination mean the peer does not answer: ' +
      'the host is down, a firewall silently drops the SYNs, or the server\'s accept queue is full and it ignores new ' +
      'SYNs. Many towards many different addresses from one process can be a scanner or misbehaving software. Each ' +
      'waiting connect() holds a thread or a request for up to two minutes, so the trouble spreads upwards.',
    whatToDo: [
      'Group them by destination (`ss -tn state syn-sent`, or `tcpstate ls`) to see which peer does not answer.',
      'Check the path: does the port answer from this host (`nc -vz HOST PORT`)? Does a firewall drop instead of reject?',
      'Give connects a timeout in the application that fits the service instead of waiting two minutes; lowering ' +
        'net.ipv4.tcp_syn_retries does the same for the whole host.',
      'If the server\'s listen queue is the cause, fix it on the server (see LISTEN and SYN-RECEIVED).',
    ],
  },

  SYN_RECEIVED: {
    summary: 'A server has answered a SYN with SYN-ACK and waits for the client\'s final ACK.',
    meaning:
      'The second step of the handshake is done: the server saw the client\'s SYN and sent its own SYN with an ACK; ' +
      'it needs the third packet to finish. On Linux a connection in this phase is not a full socket but a small ' +
      'request socket (a "mini-socket", state 12, NEW_SYN_RECV) kept in the listener\'s SYN queue, and ss shows it ' +
      'as SYN-RECV. Only TCP Fast Open and a simultaneous open use a full socket in state 3.',
    howEntered: {
      who: 'server',
      how:
        'A SYN reaches a listening port; the kernel answers with SYN-ACK and records the request. Rarely both sides ' +
        'send a SYN at once (simultaneous open) and a client in SYN-SENT comes here too.',
    },
    howLeft:
      'The client\'s ACK completes the handshake: the kernel creates the real connected socket, ESTABLISHED, and ' +
      'queues it for accept(). If that queue is full, Linux drops the ACK (or sends a RST when ' +
      'net.ipv4.tcp_abort_on_overflow is set) and the request stays here. A RST from the client, or running out of ' +
      'SYN-ACK retransmissions, removes the request while the listener carries on. (The RFC also allows a CLOSE ' +
      'here, which sends a FIN and goes to FIN-WAIT-1.)',
    lifetimeBrief: 'at most about 63 s (tcp_synack_retries = 5)',
    lifetimeOnLinux:
      'The request lives as a mini-socket of the listener (state 12, NEW_SYN_RECV), and its life is bounded by ' +
      'net.ipv4.tcp_synack_retries, default 5: the SYN-ACK is resent after 1, 2, 4, 8 and 16 seconds and ' +
      'the request is dropped after a last 32-second wait, about 63 s after the SYN arrived. How many half-open ' +
      'requests a listener keeps is limited by its backlog (and by net.ipv4.tcp_max_syn_backlog when SYN cookies are ' +
      'off); when the queue overflows, SYN cookies (net.ipv4.tcp_syncookies = 1, the default) let the kernel answer ' +
      'without storing the request at all.',
    productionBrief: 'a SYN flood, or lost client ACKs; keep SYN cookies on',
    inProduction:
      'A few at any moment are normal on a busy server, each living one round trip. Thousands mean a SYN flood ' +
      '(spoofed sources that will never send the final ACK, often from scattered addresses), a path that loses the ' +
      'clients\' ACKs, or a full accept queue: the finished handshakes are dropped and the SYN-ACKs keep being resent.',
    whatToDo: [
      'Look at the sources (`ss -tn state syn-recv`): many unrelated addresses suggest a flood; a few real clients ' +
        'suggest lost ACKs or a queue problem.',
      'Keep SYN cookies on (net.ipv4.tcp_syncookies = 1); under a flood the TcpExtSyncookiesSent counter grows.',
      'Check the listener\'s accept queue (`ss -ltn`, Recv-Q against Send-Q) and its backlog against ' +
        'net.core.somaxconn; a full queue needs a faster accept loop first.',
      'A real flood is best stopped before it reaches the host: rate limits or DDoS protection upstream.',
    ],
  },

  ESTABLISHED: {
    summary: 'The connection is open and both directions can carry data.',
    meaning:
      'The handshake is complete on this side and the connection is in its working state: both ends can send and ' +
      'receive, and nearly all of a connection\'s data flows here. It says nothing about traffic right now: an idle ' +
      'connection is ESTABLISHED too.',
    howEntered: {
      who: 'either',
      how:
        'A client enters it when the server\'s SYN-ACK arrives (and answers with the final ACK); a server when the ' +
        'client\'s ACK completes the handshake and the new socket is created for accept().',
    },
    howLeft:
      'The side that calls close() (or shutdown() for writing) first sends a FIN and goes to FIN-WAIT-1: it is the ' +
      'active closer. The side that receives this FIN acknowledges it and goes to CLOSE-WAIT: the passive closer. ' +
      'A RST, an abort (close() with unread data makes Linux send a RST) or exhausted retransmissions end it at once ' +
      'in CLOSED.',
    lifetimeBrief: 'unbounded; keepalive probing (after 7200 s) only if enabled',
    lifetimeOnLinux:
      'Unbounded: an idle connection can stay ESTABLISHED for months. If the application set SO_KEEPALIVE, the ' +
      'kernel probes after net.ipv4.tcp_keepalive_time (7200 s) of silence, then every tcp_keepalive_intvl (75 s), ' +
      'and gives up after tcp_keepalive_probes (9) unanswered probes: about 2 h 11 min to notice a dead peer. With ' +
      'unacknowledged data in flight, retransmissions end it after net.ipv4.tcp_retries2 (15) attempts, roughly 15 ' +
      'minutes. TCP_USER_TIMEOUT shortens both.',
    productionBrief: 'follows concurrency; growth beyond it means pools not releasing or slow peers',
    inProduction:
      'The count follows the number of clients and pooled connections. A steady climb without more traffic points ' +
      'to clients that open connections and never reuse or release them, a pool without a size limit, or a slow ' +
      'backend holding requests. A large Send-Q means the peer does not keep up; a large Recv-Q means this ' +
      'application does not read.',
    whatToDo: [
      'Break the count down by port and peer (`tcpstate ls`, `ss -tn state established`) to find who holds them.',
      'Cap connection pools and give idle connections a timeout in the application.',
      'Behind NAT or firewalls that forget idle flows, enable keepalive with a time shorter than their idle timeout, ' +
        'so dead connections are found and live ones are kept.',
      '`tcpstate doctor` checks the counts and the queues for you.',
    ],
  },

  FIN_WAIT_1: {
    summary: 'This side has sent its FIN and waits for it to be acknowledged.',
    meaning:
      'The application has said it will send nothing more, and the kernel has queued a FIN behind whatever data is ' +
      'still in the send buffer. Until the peer acknowledges that FIN this side is in FIN-WAIT-1; it can still ' +
      'receive. It is the first state of the active closer.',
    howEntered: {
      who: 'either',
      how:
        'Whichever side closes first, client or server: close() or shutdown(SHUT_WR) in ESTABLISHED (or in ' +
        'SYN-RECEIVED) sends the FIN.',
    },
    howLeft:
      'The ACK of the FIN moves it to FIN-WAIT-2. If the peer\'s FIN arrives before that ACK, both sides are closing ' +
      'at once: it acknowledges and moves to CLOSING. If one segment carries both the peer\'s FIN and the ACK of ' +
      'ours, it goes straight to TIME-WAIT. A RST, data arriving after close() (Linux answers with a RST), or ' +
      'exhausted retransmissions end it in CLOSED.',
    lifetimeBrief: 'one round trip; stuck while the peer advertises a zero window',
    lifetimeOnLinux:
      'Normally one round trip. The FIN is retransmitted like data. For an orphan (the application already called ' +
      'close()) the limit is net.ipv4.tcp_orphan_retries, default 0, which the kernel treats as 8 (over 100 s at the ' +
      'minimum RTO), and orphans are killed early under memory pressure or beyond net.ipv4.tcp_max_orphans. If the ' +
      'application only called shutdown() and still holds the socket, net.ipv4.tcp_retries2 (15, about 15 minutes) ' +
      'applies. When the peer advertises a zero window the FIN cannot leave at all and the kernel sends zero-window ' +
      'probes instead: an orphan gives up after a few minutes, but a socket the application still holds keeps ' +
      'probing as long as the peer answers, unless TCP_USER_TIMEOUT is set.',
    productionBrief: 'peers stopped reading (zero window) or vanished; find the peers',
    inProduction:
      'Many FIN-WAIT-1 sockets that stay almost always have data queued for peers that no longer read: the peer\'s ' +
      'receive window is zero, so neither the rest of the data nor the FIN can be sent. Typical are stuck or ' +
      'overloaded clients, and peers that vanished behind a firewall that drops everything. Each of them keeps its ' +
      'unsent send buffer in kernel memory.',
    whatToDo: [
      'List them with their queues and timers: `ss -tno state fin-wait-1`; a large Send-Q and a persist timer ' +
        '(`timer:(persist,...)`) confirm a zero window.',
      'Group them by peer to see whether one client or network is responsible, and fix or block it there.',
      'Give the application write timeouts, so it notices a peer that stopped reading and closes sooner.',
      'net.ipv4.tcp_orphan_retries bounds how long orphans linger; lowering it is a fair last resort on a server ' +
        'that is hit this way.',
      'Reproduce it with `tcpstate lab FIN_WAIT_1`.',
    ],
  },

  FIN_WAIT_2: {
    summary: 'This side\'s FIN is acknowledged; it waits for the peer to close its half.',
    meaning:
      'Our direction is finished and the peer has confirmed it. The connection is half-closed: the peer may still ' +
      'send data, which this side can read if the application kept the socket. The state ends when the peer sends ' +
      'its own FIN.',
    howEntered: {
      who: 'either',
      how: 'The active closer, client or server, comes here from FIN-WAIT-1 when the ACK of its FIN arrives.',
    },
    howLeft:
      'The peer\'s FIN arrives; it is acknowledged and the socket goes to TIME-WAIT. On Linux an orphaned socket that ' +
      'waits too long is dropped by the tcp_fin_timeout timer, and a RST, or data arriving after close() (answered ' +
      'with a RST), ends it in CLOSED.',
    lifetimeBrief: 'orphan: tcp_fin_timeout (60 s); after shutdown(): unbounded',
    lifetimeOnLinux:
      'It depends on who holds the socket. If the application called close(), the socket is an orphan and Linux ' +
      'removes it after net.ipv4.tcp_fin_timeout seconds, default 60; meanwhile the kernel may keep it in a small ' +
      'TIME-WAIT-like record that ss still shows as FIN-WAIT-2. If the application only called shutdown(SHUT_WR) ' +
      'and keeps the socket to read the rest, no timer applies: it stays until the peer closes, unless keepalive or ' +
      'TCP_USER_TIMEOUT ends it. The per-socket option TCP_LINGER2 overrides tcp_fin_timeout.',
    productionBrief: 'the peer never closes its side: look for CLOSE-WAIT on the peer',
    inProduction:
      'Many FIN-WAIT-2 sockets mean peers acknowledged our FIN but never closed their own side. The other end is ' +
      'then usually in CLOSE-WAIT, with a leak in its application. With shutdown()-based half-close they can also ' +
      'be sockets this application forgot to close after reading.',
    whatToDo: [
      'Group them by peer (`ss -tn state fin-wait-2`) and look at the peer host: `ss -tanp state close-wait` there ' +
        'probably shows the leaking process.',
      'On this side, close a socket half-closed with shutdown() once the peer\'s data has been read.',
      'net.ipv4.tcp_fin_timeout only shortens the orphan case; whatever some guides say, it does not change TIME-WAIT.',
    ],
  },

  CLOSE_WAIT: {
    summary: 'The peer has closed its side; the application here has not closed yet.',
    meaning:
      'A FIN came in and the kernel acknowledged it: the peer will send nothing more, and read() returns 0 ' +
      '(end of file) once the buffered data is consumed. The connection now waits for the local application, which ' +
      'may still send what it has and must then call close() or shutdown(). It is the first state of the passive closer.',
    howEntered: {
      who: 'either',
      how: 'The passive closer, client or server: the peer\'s FIN arrives in ESTABLISHED.',
    },
    howLeft:
      'Only the application moves it on: close() sends our FIN and the socket goes to LAST-ACK. A RST from the peer ' +
      '(for instance in answer to a later write or keepalive probe) or an abort takes it to CLOSED, but the ' +
      'descriptor stays until the application closes it. If unread data remains, Linux sends a RST instead of a FIN ' +
      'on close().',
    lifetimeBrief: 'unbounded: only the application\'s close() ends it',
    lifetimeOnLinux:
      'Unbounded. No kernel timer ends CLOSE-WAIT by itself; only the application\'s close() does. A keepalive probe ' +
      'or a write may discover that the peer is gone and reset the connection, but the file descriptor stays ' +
      'leaked. No sysctl helps.',
    productionBrief: 'a leak: the application never calls close(); find the process',
    inProduction:
      'CLOSE-WAIT sockets that stay are an application bug: the program saw end of file (or never read again) and ' +
      'did not close the socket. Usual causes are a missing close() on an error path, a connection pool that keeps ' +
      'connections the server already closed, or threads blocked elsewhere. They grow until the process runs out of ' +
      'descriptors ("Too many open files") and stops serving.',
    whatToDo: [
      'Find the owner: `ss -tanp state close-wait` shows the process and the peer; `tcpstate ls` groups them by ' +
        'process and port.',
      'Fix the code: treat a read of 0 bytes as the peer closing and close the socket; close in finally/defer ' +
        'blocks; let pools validate or expire idle connections.',
      'Restarting the process frees them for now; they come back until the bug is fixed.',
      'Kernel tuning does not help: neither tcp_fin_timeout nor keepalive releases a descriptor the application still holds.',
      'Watch one being made with `tcpstate lab CLOSE_WAIT`.',
    ],
  },

  CLOSING: {
    summary: 'Both sides sent a FIN at the same time; this side waits for the ACK of its own.',
    meaning:
      'A rare state of the simultaneous close: this side sent its FIN and, before any acknowledgement came back, ' +
      'the peer\'s FIN arrived. It has acknowledged that FIN and now only waits for the ACK of its own.',
    howEntered: {
      who: 'either',
      how:
        'Both ends, from FIN-WAIT-1, when the peer\'s FIN arrives before the ACK of ours: the two close() calls ' +
        'crossed on the wire.',
    },
    howLeft:
      'The ACK of our FIN arrives and it moves to TIME-WAIT (in a simultaneous close both sides pass through ' +
      'TIME-WAIT). A RST, an abort or exhausted retransmissions lead to CLOSED.',
    lifetimeBrief: 'one round trip; bounded by FIN retransmissions',
    lifetimeOnLinux:
      'Normally one round trip. If the ACK is lost, the FIN is retransmitted until it is acknowledged or the retries ' +
      'run out: net.ipv4.tcp_orphan_retries (0 means 8) for an orphan, tcp_retries2 (15) otherwise.',
    productionBrief: 'rare; many mean lost ACKs or peers vanishing mid-close',
    inProduction:
      'You rarely see more than a few. Many, or long-lived ones, point to ACKs lost on the path or to a peer that ' +
      'vanished right after sending its FIN; check packet loss and the firewalls between the hosts.',
    whatToDo: [
      'Check the path for packet loss and for a firewall that drops packets of closing connections.',
      'They clear by themselves when retransmissions run out; only a steady stream of them needs investigating.',
      'Step through a simultaneous close with `tcpstate lab CLOSING`.',
    ],
  },

  LAST_ACK: {
    summary: 'The passive closer has sent its FIN and waits for the final ACK.',
    meaning:
      'Both directions are closed: the peer closed first and this side has closed too. Only the peer\'s ' +
      'acknowledgement of our FIN is missing; once it arrives the connection is gone, with no TIME-WAIT on this side.',
    howEntered: {
      who: 'either',
      how: 'The passive closer, from CLOSE-WAIT, when the application calls close() and the FIN is sent.',
    },
    howLeft:
      'The ACK of the FIN arrives and the socket is CLOSED and freed at once. A RST (a peer that already forgot ' +
      'the connection answers that way), an abort or exhausted retransmissions end it too.',
    lifetimeBrief: 'one round trip; bounded by FIN retransmissions',
    lifetimeOnLinux:
      'Normally one round trip. Otherwise the FIN is retransmitted with exponential backoff. The socket is usually ' +
      'an orphan by now, so net.ipv4.tcp_orphan_retries (default 0, meaning 8) sets the limit, or tcp_retries2 (15) ' +
      'if the application still holds it; with data still queued behind a zero window, zero-window probing applies.',
    productionBrief: 'peers vanished before the last ACK (NAT, firewall, crash)',
    inProduction:
      'Many LAST-ACK sockets mean our FINs go unanswered: the peers went away (crashed, disconnected, or their NAT ' +
      'or firewall state expired) between sending their FIN and acknowledging ours, or a firewall drops packets of ' +
      'closing connections. They usually clear after the retransmissions, but a count that stays high shows a ' +
      'network problem.',
    whatToDo: [
      'Group them by peer (`ss -tn state last-ack`) to see whether one network or middlebox is involved.',
      'Check stateful firewalls and NAT for idle or closing-flow timeouts shorter than a close takes.',
      'Lowering net.ipv4.tcp_orphan_retries shortens how long they linger; it does not fix the cause.',
      'Watch a close from the passive side with `tcpstate lab LAST_ACK`.',
    ],
  },

  TIME_WAIT: {
    summary: 'The side that closed first waits out old packets before the connection is forgotten.',
    meaning:
      'Both FINs are acknowledged and the connection is over, but the side that closed first (the active closer) ' +
      'keeps its pair of addresses and ports reserved for a while. The wait does two things: if our last ACK was ' +
      'lost, the peer resends its FIN and we can acknowledge it again; and delayed segments of this connection die ' +
      'out before a new connection with the same addresses and ports could take them for its own. The RFC asks for ' +
      'twice the maximum segment lifetime (2MSL).',
    howEntered: {
      who: 'either',
      how:
        'The active closer, client or server: from FIN-WAIT-2 when the peer\'s FIN arrives, from CLOSING when the ' +
        'ACK of our FIN arrives, or straight from FIN-WAIT-1 when one segment brings both.',
    },
    howLeft:
      'The timer expires and the connection is removed (CLOSED). On Linux a RST received in TIME-WAIT also ends it ' +
      'at once (unless net.ipv4.tcp_rfc1337 = 1). On a server, a new SYN for the same addresses and ports can take ' +
      'the slot over when its sequence number or timestamp shows it is newer.',
    lifetimeBrief: 'fixed 60 s (TCP_TIMEWAIT_LEN), not tunable',
    lifetimeOnLinux:
      'Exactly 60 s, fixed by TCP_TIMEWAIT_LEN in the kernel source. It is not a sysctl: net.ipv4.tcp_fin_timeout ' +
      'does not change it. What remains is a small timewait record, not a full socket, and there are at most ' +
      'net.ipv4.tcp_max_tw_buckets of them; beyond that, new ones are destroyed at once and counted in ' +
      'TcpExtTCPTimeWaitOverflow.',
    productionBrief: 'normal on the side that closes first; reuse connections instead',
    inProduction:
      'Tens of thousands of TIME-WAIT sockets are common and usually harmless. A server that closes first (HTTP ' +
      'without keep-alive, idle timeouts) keeps one per closed connection for a minute, so 40,000 of them only mean ' +
      'about 670 closes per second, each costing little memory. They hurt the side that opens many short ' +
      'connections to one destination: each TIME-WAIT holds a local port for 60 s, and with the default port range ' +
      '(32768-60999, about 28,000 ports) that caps new connections to one address and port at roughly 470 per ' +
      'second before connect() fails with EADDRNOTAVAIL ("Cannot assign requested address").',
    whatToDo: [
      'Reuse connections: HTTP keep-alive, connection pools, keep-alive towards upstreams in proxies. Fewer closes ' +
        'mean fewer TIME-WAIT.',
      'Choose who closes first: that side keeps the TIME-WAIT, so letting clients close spreads them over many ' +
        'hosts instead of piling them on one server.',
      'On a client that runs out of ports: widen net.ipv4.ip_local_port_range, and consider net.ipv4.tcp_tw_reuse = ' +
        '1, which lets new outgoing connections reuse a TIME-WAIT port when TCP timestamps make it safe; it does ' +
        'nothing for incoming connections (the default, 2, enables it for loopback only).',
      'Do not try to shorten TIME-WAIT (SO_LINGER with a zero timeout, RST tricks, or the removed tcp_tw_recycle, ' +
        'which broke clients behind NAT): it exists to protect the next connection from old packets.',
      'Count them with `ss -s` or `tcpstate ls`, and let `tcpstate doctor` tell whether they matter on this host.',
    ],
  },
};
