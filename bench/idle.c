/* idle: open N keepalive connections that each complete one request, then hold them idle.
 * usage: idle HOST PORT N MSGSIZE
 * For every connection: connect, send MSGSIZE bytes, read MSGSIZE bytes back (5 s timeout).
 * Prints "ready N" once all N are open and idle, then sleeps until killed.
 * Used by bench/run.sh to measure server memory per idle keepalive connection. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s host port n msgsize\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[2]), n = atoi(argv[3]);
    size_t msz = (size_t)atoi(argv[4]);
    if (n <= 0 || msz == 0 || msz > 65536) {
        fprintf(stderr, "idle: bad arguments\n");
        return 2;
    }
    char *out = malloc(msz), *in = malloc(msz);
    for (size_t i = 0; i < msz; i++) out[i] = 'a' + i % 26;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
        fprintf(stderr, "idle: bad host\n");
        return 2;
    }
    struct timeval tv = {.tv_sec = 5};
    for (int i = 0; i < n; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
        if (fd < 0) {
            perror("idle: socket");
            return 1;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
            perror("idle: connect");
            return 1;
        }
        if (write(fd, out, msz) != (ssize_t)msz) {
            perror("idle: write");
            return 1;
        }
        for (size_t got = 0; got < msz;) {
            ssize_t r = read(fd, in + got, msz - got);
            if (r <= 0) {
                fprintf(stderr, "idle: connection %d: %s\n", i, r == 0 ? "closed by server" : "read failed/timed out");
                return 1;
            }
            got += (size_t)r;
        }
        if (memcmp(in, out, msz) != 0) {
            fprintf(stderr, "idle: connection %d: echo mismatch\n", i);
            return 1;
        }
    }
    printf("ready %d\n", n);
    fflush(stdout);
    for (;;) pause();
}
