/* The repro scenario tests' layer on tlib; failures bail() the test. */
#include "harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tap.h"

int64_t th_now_ms(void)
{
	return (int64_t)trun_now_ms();
}

void th_spawn(struct tlib_host *p, char *const argv[])
{
	const struct tlib_spawn how = { .stdin_null = true, .capture_err = true };

	if (!tlib_host_start(p, &how, argv))
		bail("spawn %s", argv[0]);
}

void th_stop(struct tlib_host *p, int sig)
{
	tlib_host_stop(p, sig, TLIB_GRACE_MS);
	tlib_host_free(p);
}

uint16_t th_server_port(struct tlib_host *p, int timeout_ms)
{
	const char *prefix = "listening on 127.0.0.1:";
	const char *s;
	unsigned long port;

	if (!tlib_host_wait(p, false, "\n", timeout_ms))
		bail("server printed no listening line: stderr: %s", p->err);
	s = strstr(p->out, prefix);
	if (!s)
		bail("unexpected first line from server: %s", p->out);
	port = strtoul(s + strlen(prefix), NULL, 10);
	if (port == 0 || port > 65535)
		bail("bad port in: %s", p->out);
	return (uint16_t)port;
}

int th_count(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	int count = 0;

	while ((hay = strstr(hay, needle))) {
		count++;
		hay += n;
	}
	return count;
}

int th_socket_count(pid_t pid)
{
	char dir[64], path[384], target[64];
	struct dirent *de;
	int count = 0;
	ssize_t n;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (!strncmp(target, "socket:", 7))
			count++;
	}
	closedir(d);
	return count;
}

int th_tcp_established(pid_t pid)
{
	char dir[64], path[384], target[64], line[512];
	unsigned long long inodes[256], ino;
	size_t n = 0;
	struct dirent *de;
	int count = 0;
	unsigned st;
	ssize_t len;
	FILE *f;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	if (!d)
		return -1;
	while ((de = readdir(d)) && n < sizeof(inodes) / sizeof(inodes[0])) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		len = readlink(path, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		if (sscanf(target, "socket:[%llu]", &inodes[n]) == 1)
			n++;
	}
	closedir(d);
	/* "sl local rem st tx:rx tr:when retrnsmt uid timeout inode" */
	f = fopen("/proc/net/tcp", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " %*s %*s %*s %x %*s %*s %*s %*s %*s %llu", &st, &ino) == 2 &&
		    st == 1)
			for (size_t i = 0; i < n; i++)
				count += inodes[i] == ino;
	fclose(f);
	return count;
}

static struct sockaddr_in th_loopback(uint16_t port)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};

	return sin;
}

int th_connect(uint16_t port)
{
	struct sockaddr_in sin = th_loopback(port);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		bail("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		bail("connect 127.0.0.1:%u: %s", port, strerror(errno));
	return fd;
}

uint16_t th_local_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);

	if (getsockname(fd, (struct sockaddr *)&sin, &sl) < 0)
		bail("getsockname: %s", strerror(errno));
	return ntohs(sin.sin_port);
}

int th_listen(uint16_t *port)
{
	struct sockaddr_in sin = th_loopback(0);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(fd, 16) < 0)
		bail("listen on 127.0.0.1:0: %s", strerror(errno));
	*port = th_local_port(fd);
	return fd;
}

int th_bound_closed(uint16_t *port)
{
	struct sockaddr_in sin = th_loopback(0);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		bail("bind 127.0.0.1:0: %s", strerror(errno));
	*port = th_local_port(fd);
	return fd;
}

int th_accept(int lfd, int timeout_ms)
{
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };

	if (poll(&pfd, 1, timeout_ms) != 1)
		return -1;
	return accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
}

bool th_send_all(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	ssize_t w;

	while (n) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

enum th_closed th_wait_closed(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char b[64];
	ssize_t n;

	if (poll(&pfd, 1, timeout_ms) != 1)
		return TH_CLOSED_TIMEOUT;
	n = recv(fd, b, sizeof(b), MSG_DONTWAIT);
	if (n == 0)
		return TH_CLOSED_EOF;
	if (n > 0)
		return TH_CLOSED_DATA;
	return errno == ECONNRESET ? TH_CLOSED_RESET : TH_CLOSED_ERROR;
}

const char *th_closed_str(enum th_closed c)
{
	switch (c) {
	case TH_CLOSED_EOF:	return "EOF";
	case TH_CLOSED_RESET:	return "connection reset";
	case TH_CLOSED_TIMEOUT:	return "timeout (still open)";
	case TH_CLOSED_DATA:	return "unexpected data";
	case TH_CLOSED_ERROR:	return "read error";
	}
	return "?";
}

static int th_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t th_unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1, v;

	for (; *hex; hex++) {
		if (*hex == ' ' || *hex == '\n' || *hex == '\t')
			continue;
		v = th_hexval(*hex);
		if (v < 0)
			bail("bad hex digit '%c'", *hex);
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n == cap)
			bail("hex longer than %zu bytes", cap);
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	if (hi >= 0)
		bail("odd number of hex digits");
	return n;
}
