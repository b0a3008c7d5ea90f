/*
 * socket-load: fills the current network namespace's TCP table with a known mix of
 * states for the live-snapshot benchmark (bench/snapshot.ts). Run it as root inside a
 * private namespace (`ip netns exec NAME socket-load ...`): it raises RLIMIT_NOFILE and
 * sets one sysctl of that namespace (net.ipv4.tcp_tw_reuse=0).
 *
 *   socket-load [established_pairs=50000] [time_wait=10000] [half_closed_pairs=1000]
 *
 * What it builds, all on loopback (servers on 127.0.0.1, clients bound to 127.0.x.y,
 * y = 2..251, at most ADDR_SHARE clients per source address, spread over LISTENERS
 * listener ports, so ephemeral ports never run out):
 *   - LISTENERS listening sockets (LISTEN);
 *   - established_pairs connected pairs, both ends held open (2 × ESTABLISHED);
 *   - half_closed_pairs pairs where the client called shutdown(SHUT_WR) and the server
 *     never closes: the client sits in FIN_WAIT_2, the server in CLOSE_WAIT (neither is
 *     an orphan, so neither times out);
 *   - time_wait connections where the client closed first and the server then closed:
 *     the client end stays in TIME_WAIT for 60 s (TCP_TIMEWAIT_LEN), the server end is
 *     gone after LAST_ACK. TIME_WAIT is created last.
 *
 * Descriptors: one process may hold at most RLIMIT_NOFILE of them. We raise it to
 * 300000 (or what the sockets need) when we may; without CAP_SYS_RESOURCE (containers)
 * the hard limit stays, often 20000. Either way the established pairs are held by as
 * many worker processes as the limit requires (both ends of a pair in one worker).
 * Workers are built one after another, then pause(); they die with the main process
 * (PR_SET_PDEATHSIG). The main process holds the listeners and the half-closed pairs.
 *
 * Protocol (stdout is line-buffered):
 *   prints `ready established_pairs=E half_closed_pairs=H time_wait=T listeners=L
 *           workers=W pids=P,P,... nofile=N ms=M`
 *   then reads commands from stdin (keep it open: EOF means the driver is gone):
 *     `tw`        creates another TIME_WAIT batch of the same size, prints `tw T ms=M`
 *     `quit`/EOF  exits (workers follow; the kernel closes every socket)
 * Errors print `error: ...` on stderr and exit 1.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define LISTENERS 8
#define FIRST_PORT 20000
#define ADDR_SHARE 4000 /* clients per source address */
#define BATCH 512       /* connects before the matching accepts; < listen backlog */
#define BACKLOG 4096
#define MAX_WORKERS 256
#define WANT_NOFILE 300000

static int listeners[LISTENERS];
static unsigned long next_client; /* clients ever created: picks address and listener */

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("error: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Best effort: a sysctl of this namespace. */
static void set_sysctl(const char *path, const char *value) {
  FILE *f = fopen(path, "w");
  if (f == NULL) {
    fprintf(stderr, "warning: cannot open %s: %s\n", path, strerror(errno));
    return;
  }
  fputs(value, f);
  if (fclose(f) != 0) fprintf(stderr, "warning: cannot write %s: %s\n", path, strerror(errno));
}

static long read_sysctl(const char *path) {
  FILE *f = fopen(path, "r");
  long v = -1;
  if (f == NULL) return -1;
  if (fscanf(f, "%ld", &v) != 1) v = -1;
  fclose(f);
  return v;
}

/* Raises RLIMIT_NOFILE to `want`, or as far as the hard limit allows; returns it. */
static rlim_t raise_nofile(rlim_t want) {
  struct rlimit rl = {want, want};
  if (setrlimit(RLIMIT_NOFILE, &rl) == 0) return want;
  if (getrlimit(RLIMIT_NOFILE, &rl) < 0) die("getrlimit: %s", strerror(errno));
  rl.rlim_cur = rl.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &rl) < 0) die("setrlimit(RLIMIT_NOFILE): %s", strerror(errno));
  return rl.rlim_cur;
}

static void open_listeners(void) {
  for (int i = 0; i < LISTENERS; i++) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(FIRST_PORT + i)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) die("bind listener %d: %s", FIRST_PORT + i, strerror(errno));
    if (listen(fd, BACKLOG) < 0) die("listen: %s", strerror(errno));
    listeners[i] = fd;
  }
}

/* Connects one client; returns its fd and the listener index it went to. */
static int connect_one(int *listener) {
  for (int attempt = 0; attempt < 64; attempt++) {
    unsigned long n = next_client++;
    unsigned long k = n / ADDR_SHARE; /* source address index */
    if (k >= 250ul * 250ul) die("ran out of source addresses");
    uint32_t src = (127u << 24) | ((uint32_t)(k / 250) << 8) | (uint32_t)(2 + k % 250);
    int li = (int)(n % LISTENERS);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket: %s", strerror(errno));
    int one = 1;
    /* Choose the port at connect() by the full 4-tuple, not at bind() by address alone. */
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(src);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) die("bind client: %s", strerror(errno));
    struct sockaddr_in d = {.sin_family = AF_INET, .sin_port = htons(FIRST_PORT + li)};
    d.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&d, sizeof d) == 0) {
      *listener = li;
      return fd;
    }
    int e = errno;
    close(fd);
    if (e != EADDRNOTAVAIL) die("connect: %s", strerror(e));
    next_client = (k + 1) * ADDR_SHARE; /* this address is full: move to the next */
  }
  die("connect: no free source port after 64 addresses");
  return -1;
}

enum mode { HOLD, HALF_CLOSE, TIME_WAIT };

/* Creates `count` connections in batches; what happens to each pair depends on `mode`. */
static void make_connections(long count, enum mode mode) {
  static int clients[BATCH], servers[BATCH];
  while (count > 0) {
    int b = count < BATCH ? (int)count : BATCH;
    int per_listener[LISTENERS] = {0};
    for (int i = 0; i < b; i++) {
      int li;
      clients[i] = connect_one(&li);
      per_listener[li]++;
    }
    int s = 0;
    for (int li = 0; li < LISTENERS; li++) {
      for (int j = 0; j < per_listener[li]; j++) {
        int fd = accept4(listeners[li], NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) die("accept: %s", strerror(errno));
        servers[s++] = fd;
      }
    }
    switch (mode) {
      case HOLD:
        break;
      case HALF_CLOSE:
        for (int i = 0; i < b; i++)
          if (shutdown(clients[i], SHUT_WR) < 0) die("shutdown: %s", strerror(errno));
        break;
      case TIME_WAIT:
        /* Client closes first (FIN_WAIT_1 → FIN_WAIT_2), server sees EOF (CLOSE_WAIT) and
           closes (LAST_ACK): the client end ends in TIME_WAIT. */
        for (int i = 0; i < b; i++) close(clients[i]);
        for (int i = 0; i < b; i++) close(servers[i]);
        break;
    }
    count -= b;
  }
}

/* Forks a worker that holds `pairs` established pairs; waits until it has built them. */
static pid_t spawn_worker(long pairs) {
  int p[2];
  if (pipe(p) < 0) die("pipe: %s", strerror(errno));
  pid_t parent = getpid();
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) die("fork: %s", strerror(errno));
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    close(p[0]);
    make_connections(pairs, HOLD);
    for (int i = 0; i < LISTENERS; i++) close(listeners[i]); /* the main process owns them */
    if (write(p[1], &next_client, sizeof next_client) != (ssize_t)sizeof next_client) _exit(1);
    close(p[1]);
    for (;;) pause();
  }
  close(p[1]);
  unsigned long n;
  ssize_t r = read(p[0], &n, sizeof n);
  close(p[0]);
  if (r != (ssize_t)sizeof n) {
    int status = 0;
    waitpid(pid, &status, 0);
    die("worker %d failed while building its pairs", (int)pid);
  }
  next_client = n; /* the worker used these addresses; carry on after them */
  return pid;
}

static long arg(int argc, char **argv, int i, long dflt) {
  if (argc <= i) return dflt;
  char *end;
  long v = strtol(argv[i], &end, 10);
  if (*end != '\0' || v < 0) die("bad argument %s (want a non-negative integer)", argv[i]);
  return v;
}

int main(int argc, char **argv) {
  long pairs = arg(argc, argv, 1, 50000);
  long time_wait = arg(argc, argv, 2, 10000);
  long half = arg(argc, argv, 3, 1000);
  setvbuf(stdout, NULL, _IOLBF, 0);

  rlim_t want = (rlim_t)(2 * pairs + 2 * half + 2 * BATCH + 256);
  if (want < WANT_NOFILE) want = WANT_NOFILE;
  rlim_t nofile = raise_nofile(want); /* inherited by the workers */
  long room = (long)nofile - 2 * BATCH - 64; /* descriptors free for held sockets */
  if (room < 2 * (half + 1)) die("RLIMIT_NOFILE %lu is too small for %ld half-closed pairs", (unsigned long)nofile, half);
  long per_worker = room / 2; /* pairs one worker can hold */

  /* This namespace only: never hand a TIME_WAIT tuple to a new connection (the default,
     2, does so on loopback), so every batch adds exactly `time_wait` sockets. */
  set_sysctl("/proc/sys/net/ipv4/tcp_tw_reuse", "0");
  long buckets = read_sysctl("/proc/sys/net/ipv4/tcp_max_tw_buckets");
  if (buckets >= 0 && buckets < time_wait)
    fprintf(stderr, "warning: tcp_max_tw_buckets=%ld < %ld: the kernel will drop the excess\n", buckets, time_wait);

  double t0 = now_ms();
  open_listeners();
  pid_t workers[MAX_WORKERS];
  int nworkers = 0;
  for (long left = pairs; left > 0;) {
    long n = left < per_worker ? left : per_worker;
    if (nworkers == MAX_WORKERS) die("too many workers (RLIMIT_NOFILE %lu)", (unsigned long)nofile);
    workers[nworkers++] = spawn_worker(n);
    left -= n;
  }
  make_connections(half, HALF_CLOSE);
  make_connections(time_wait, TIME_WAIT);
  printf("ready established_pairs=%ld half_closed_pairs=%ld time_wait=%ld listeners=%d workers=%d pids=%d", pairs,
         half, time_wait, LISTENERS, nworkers, (int)getpid());
  for (int i = 0; i < nworkers; i++) printf(",%d", (int)workers[i]);
  printf(" nofile=%lu ms=%.0f\n", (unsigned long)nofile, now_ms() - t0);

  char line[64];
  while (fgets(line, sizeof line, stdin) != NULL) {
    if (strncmp(line, "tw", 2) == 0) {
      double t = now_ms();
      make_connections(time_wait, TIME_WAIT);
      printf("tw %ld ms=%.0f\n", time_wait, now_ms() - t);
    } else if (strncmp(line, "quit", 4) == 0) {
      break;
    }
  }
  for (int i = 0; i < nworkers; i++) kill(workers[i], SIGKILL);
  for (int i = 0; i < nworkers; i++) waitpid(workers[i], NULL, 0);
  return 0;
}
