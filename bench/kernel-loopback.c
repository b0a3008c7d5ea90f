/*
 * The peer for bench/lifecycles.ts: the Linux TCP stack doing the same connection
 * lifecycle on loopback: connect, accept, 1000 bytes client→server, the client closes
 * first, the server closes. Run it inside a private network namespace (unshare -n);
 * TIME_WAIT entries stay in that namespace and vanish with it.
 * Usage: kernel-loopback N   → prints "lifecycles=N seconds=S"
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) {
  perror(what);
  exit(1);
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 100000;
  int one = 1;
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  if (lfd < 0) die("socket");
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(5555);
  if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
  if (listen(lfd, 128) < 0) die("listen");
  char buf[1000];
  memset(buf, 'x', sizeof buf);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long i = 0; i < n; i++) {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (c < 0) die("socket");
    /* The client's TIME_WAIT entries would exhaust ephemeral ports, but in a fresh
       namespace net.ipv4.tcp_tw_reuse = 2 lets loopback connections reuse them. */
    if (connect(c, (struct sockaddr *)&addr, sizeof addr) < 0) die("connect");
    int s = accept(lfd, NULL, NULL);
    if (s < 0) die("accept");
    if (write(c, buf, sizeof buf) != (ssize_t)sizeof buf) die("write");
    size_t got = 0;
    while (got < sizeof buf) {
      ssize_t r = read(s, buf, sizeof buf - got);
      if (r <= 0) die("read");
      got += (size_t)r;
    }
    close(c);
    char eof;
    if (read(s, &eof, 1) != 0) die("read eof");
    close(s);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  printf("lifecycles=%ld seconds=%.3f\n", n, secs);
  return 0;
}
