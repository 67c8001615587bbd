#include "server/probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* A socket connected to host:port with send/receive (and so connect)
 * timeouts, or -1 with the reason in err. */
static int probe_connect(const char *host, unsigned short port, int timeout_ms, char *err,
                         size_t errsz)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    if (strcmp(host, "0.0.0.0") == 0)
        host = "127.0.0.1";
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        snprintf(err, errsz, "invalid address '%s'", host);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
        connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        snprintf(err, errsz, "cannot connect to %s:%u (%s)", host, (unsigned)port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Reads until the status line is in buf (NUL-terminated). */
static int read_status_line(int fd, char *buf, size_t cap, char *err, size_t errsz)
{
    size_t n = 0;
    while (n + 1 < cap && !memchr(buf, '\n', n)) {
        ssize_t r = recv(fd, buf + n, cap - 1 - n, 0);
        if (r <= 0) {
            if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                snprintf(err, errsz, "no answer in time");
            else
                snprintf(err, errsz, "no answer (%s)",
                         r == 0 ? "connection closed" : strerror(errno));
            return -1;
        }
        n += (size_t)r;
        buf[n] = '\0';
    }
    buf[n] = '\0';
    return 0;
}

int probe_get(const char *host, unsigned short port, const char *path, int timeout_ms, char *err,
              size_t errsz)
{
    char buf[512];
    int status = -1;
    int fd = probe_connect(host, port, timeout_ms, err, errsz);
    if (fd < 0)
        return -1;
    int len = snprintf(buf, sizeof(buf), "GET %s HTTP/1.0\r\nHost: %s:%u\r\nAccept: text/plain\r\n\r\n",
                       path, host, (unsigned)port);
    if (len < 0 || (size_t)len >= sizeof(buf) || send(fd, buf, (size_t)len, MSG_NOSIGNAL) != len)
        snprintf(err, errsz, "cannot send the request (%s)", strerror(errno));
    else if (read_status_line(fd, buf, sizeof(buf), err, errsz) == 0 &&
             sscanf(buf, "HTTP/1.%*1d %3d", &status) != 1) {
        snprintf(err, errsz, "not an HTTP answer");
        status = -1;
    }
    close(fd);
    return status;
}
