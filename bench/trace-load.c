/* Connection churn for bench/trace.ts: opens and closes TCP connections on loopback at a
 * paced rate. Each connection: connect, accept, the server closes first (its socket ends
 * in TIME_WAIT), then the client (CLOSE_WAIT -> LAST_ACK): 10 state transitions.
 * Usage: trace-load RATE_PER_S SECONDS PORT ; prints "connections N elapsed_s S". */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 4) return 2;
  double rate = atof(argv[1]), secs = atof(argv[2]);
  int port = atoi(argv[3]), one = 1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  a.sin_addr.s_addr = htonl(0x7f000001);
  int l = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 4096)) { perror("listen"); return 1; }
  long n = 0, failed = 0;
  double t0 = now(), t;
  while ((t = now() - t0) < secs) {
    long due = (long)(t * rate);
    if (n >= due) { struct timespec ts = {0, 200000}; nanosleep(&ts, NULL); continue; }
    while (n < due) {
      int c = socket(AF_INET, SOCK_STREAM, 0);
      if (connect(c, (struct sockaddr *)&a, sizeof a)) { failed++; close(c); n++; continue; }
      int s = accept(l, NULL, NULL);
      if (s >= 0) close(s);
      close(c);
      n++;
    }
  }
  printf("connections %ld failed %ld elapsed_s %.3f\n", n, failed, now() - t0);
  return 0;
}
