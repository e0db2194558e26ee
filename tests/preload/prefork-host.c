/* A pre-fork server in the situations where a forked child cannot have a
 * socket table: the parent listens with a connection pending, makes a
 * table impossible for its child, and forks; the child accepts. It prints
 * "child exit N" (or "child signal N") and exits 0 only when the child
 * exited 0, so a run under the shim can be compared with one without.
 *
 *   prefork-host rlimit        RLIMIT_NOFILE lowered to 64 and filled with
 *                              /dev/null; the child closes one, then accepts
 *   prefork-host exec          the same, but the child execs
 *                              "prefork-host accept FD" (a new image with
 *                              no table), which accepts
 *   prefork-host fill DIR      DIR (the table directory) filled up to
 *                              ENOSPC before the fork
 *   prefork-host unlink DIR    the parent's own table removed from DIR,
 *                              then 300 more sockets (new table pages)
 *   prefork-host accept FD     accept on FD and exit 0 when it works
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int accept_one(int lfd)
{
	int c;

	alarm(10);   /* the connection is pending: accept() must not wait */
	c = accept(lfd, NULL, NULL);
	if (c < 0) {
		fprintf(stderr, "accept: %s\n", strerror(errno));
		return 1;
	}
	close(c);
	return 0;
}

static void listen_with_pending(int *lfd, int *client)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);

	*lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (*lfd < 0 || bind(*lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(*lfd, 4) < 0 ||
	    getsockname(*lfd, (struct sockaddr *)&a, &l) < 0) {
		perror("listen");
		exit(2);
	}
	*client = socket(AF_INET, SOCK_STREAM, 0);
	if (*client < 0 || connect(*client, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("connect");
		exit(2);
	}
}

/* RLIMIT_NOFILE down to 64, every free number taken by /dev/null; returns
 * one of those descriptors. */
static int fill_fds(void)
{
	struct rlimit rl = { 64, 64 };
	int fd, last = -1;

	if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		perror("setrlimit");
		exit(2);
	}
	while ((fd = open("/dev/null", O_RDONLY)) >= 0)
		last = fd;
	if (errno != EMFILE || last < 0) {
		perror("filling the fd table");
		exit(2);
	}
	return last;
}

static void fill_dir(const char *dir)
{
	static char block[65536];
	char path[4200];
	int fd;

	snprintf(path, sizeof(path), "%s/filler", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		perror("filler");
		exit(2);
	}
	memset(block, 'x', sizeof(block));
	/* Bounded: a directory that never fills is a broken test set-up. */
	for (int i = 0; i < 4096; i++) {
		if (write(fd, block, sizeof(block)) < 0) {
			if (errno == ENOSPC)
				break;
			perror("filler write");
			exit(2);
		}
		if (i == 4095) {
			fprintf(stderr, "%s never filled up\n", dir);
			exit(2);
		}
	}
	/* Page by page until not one more fits. */
	while (write(fd, block, 4096) > 0)
		;
	close(fd);
}

/* Remove this process's own table, if any, from dir. */
static void unlink_own(const char *dir)
{
	char prefix[64], path[4200];
	struct dirent *de;
	DIR *d = opendir(dir);

	snprintf(prefix, sizeof(prefix), "sockaudit.%u.%d.", (unsigned)geteuid(), (int)getpid());
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	int lfd, client, spare = -1, st;
	char fdarg[16];
	pid_t pid;

	if (strcmp(mode, "accept") == 0 && argc == 3)
		return accept_one(atoi(argv[2]));
	if ((strcmp(mode, "fill") == 0 || strcmp(mode, "unlink") == 0) && argc != 3) {
		fprintf(stderr, "usage: prefork-host rlimit|exec|fill DIR|unlink DIR|accept FD\n");
		return 2;
	}
	listen_with_pending(&lfd, &client);
	if (strcmp(mode, "rlimit") == 0 || strcmp(mode, "exec") == 0) {
		spare = fill_fds();
	} else if (strcmp(mode, "fill") == 0) {
		fill_dir(argv[2]);
	} else if (strcmp(mode, "unlink") == 0) {
		unlink_own(argv[2]);
		for (int i = 0; i < 300; i++) {
			int fd = socket(AF_INET, SOCK_DGRAM, 0);
			if (fd >= 0 && i % 2)
				close(fd);
		}
	} else {
		fprintf(stderr, "usage: prefork-host rlimit|exec|fill DIR|unlink DIR|accept FD\n");
		return 2;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 2;
	}
	if (pid == 0) {
		if (spare >= 0)
			close(spare);
		if (strcmp(mode, "exec") == 0) {
			snprintf(fdarg, sizeof(fdarg), "%d", lfd);
			execl(argv[0], argv[0], "accept", fdarg, (char *)NULL);
			_exit(126);
		}
		_exit(accept_one(lfd));
	}
	if (waitpid(pid, &st, 0) != pid) {
		perror("waitpid");
		return 2;
	}
	if (WIFEXITED(st))
		printf("child exit %d\n", WEXITSTATUS(st));
	else
		printf("child signal %d\n", WTERMSIG(st));
	close(client);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}
