/* The reader under attack: while `sockaudit report` and `dump` read a live
 * process's table, another thread truncates it, grows it back, rewrites
 * header and slot bytes and leaves slots mid-update. Every run must end
 * with exit 0, 1 (report) or 2 and one clear line, within its deadline:
 * never a crash (SIGBUS, SIGSEGV) or a hang. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tap.h"
#include "table-reader.h"
#include "util/target.h"

static atomic_bool stop;
static char table_path[4200];
static uint8_t *original;
static size_t original_len;

static void *mutator(void *arg)
{
	unsigned seed = 12345;
	(void)arg;

	while (!atomic_load(&stop)) {
		int fd = open(table_path, O_RDWR);
		unsigned what = rand_r(&seed) % 5;
		off_t off;

		if (fd < 0)
			break;
		switch (what) {
		case 0:   /* truncate somewhere, then restore */
			ftruncate(fd, (off_t)(rand_r(&seed) % original_len));
			usleep(rand_r(&seed) % 2000);
			ftruncate(fd, (off_t)original_len);
			pwrite(fd, original, SA_HEADER_SIZE, 0);
			break;
		case 1:   /* scribble on the header, then restore it */
			off = (off_t)(rand_r(&seed) % SA_HEADER_SIZE);
			pwrite(fd, &seed, sizeof(seed), off);
			usleep(rand_r(&seed) % 2000);
			pwrite(fd, original, SA_HEADER_SIZE, 0);
			break;
		case 2: { /* a slot stuck mid-update (odd seq) */
			const struct sa_header *h = (const void *)original;
			uint32_t odd = 0x7fffffff;
			off = (off_t)(h->slots_off + (uint64_t)(3 + rand_r(&seed) % 40) * sizeof(struct sa_slot));
			pwrite(fd, &odd, sizeof(odd), off);
			break;
		}
		case 3: { /* garbage in the stack region */
			const struct sa_header *h = (const void *)original;
			uint8_t junk[256];
			for (size_t i = 0; i < sizeof(junk); i++)
				junk[i] = (uint8_t)rand_r(&seed);
			pwrite(fd, junk, sizeof(junk),
			       (off_t)(h->stacks_off + rand_r(&seed) % (h->nstacks * sizeof(struct sa_stack))));
			break;
		}
		default:  /* grow past the header's file_size for a moment */
			ftruncate(fd, (off_t)original_len + 8192);
			usleep(rand_r(&seed) % 2000);
			ftruncate(fd, (off_t)original_len);
			break;
		}
		close(fd);
		usleep(rand_r(&seed) % 500);
	}
	return NULL;
}

/* Run the CLI; returns its exit status, or -1 (signal), -2 (hang). */
static int run_cli(const char *cli, const char *cmd, const char *arg, const char *arg2,
		   char *err, size_t errlen)
{
	int e[2], st, waited = 0;
	pid_t p;
	ssize_t n;

	pipe(e);
	p = fork();
	if (p == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, 1);
		dup2(e[1], 2);
		close(e[0]);
		execl(cli, cli, cmd, arg, arg2, (char *)NULL);
		_exit(127);
	}
	close(e[1]);
	while (waitpid(p, &st, WNOHANG) == 0) {
		if (waited++ > 10000) {
			kill(p, SIGKILL);
			waitpid(p, &st, 0);
			close(e[0]);
			return -2;
		}
		usleep(1000);
	}
	n = read(e[0], err, errlen - 1);
	err[n > 0 ? n : 0] = '\0';
	close(e[0]);
	if (!WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

int main(void)
{
	const char *cli = getenv("SOCKAUDIT"), *holder = getenv("SOCKAUDIT_HOLDER");
	const char *shim = getenv("SOCKAUDIT_SHIM"), *dir = getenv("SOCKAUDIT_DIR");
	int in[2], out[2], crashed = 0, hung = 0, unclear = 0, runs = 0, twos = 0;
	char line[64], pidbuf[16], err[4096];
	pthread_t th;
	pid_t pid;
	uint64_t st;

	if (!cli || !holder || !shim || !dir)
		bail("SOCKAUDIT, SOCKAUDIT_HOLDER, SOCKAUDIT_SHIM and SOCKAUDIT_DIR must be set");
	tap_deadline(100, "the reader attack (holder, CLI runs, joins)");
	pipe(in);
	pipe(out);
	pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		setenv("LD_PRELOAD", shim, 1);
		execl(holder, holder, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	{
		ssize_t n = read(out[0], line, sizeof(line) - 1);
		line[n > 0 ? n : 0] = '\0';
	}
	ok(strncmp(line, "ready", 5) == 0, "holder ready");
	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)pid);
	proc_read_starttime(pid, &st);
	if (sa_table_find(dir, (uint32_t)geteuid(), pid, st, table_path, sizeof(table_path)) < 0)
		bail("holder has no table");
	{
		int fd = open(table_path, O_RDONLY);
		struct stat sb;
		fstat(fd, &sb);
		original_len = (size_t)sb.st_size;
		original = malloc(original_len);
		pread(fd, original, original_len, 0);
		close(fd);
	}
	ok(run_cli(cli, "report", pidbuf, NULL, err, sizeof(err)) == 0,
	   "report on the untouched table: exit 0");

	pthread_create(&th, NULL, mutator, NULL);
	for (int i = 0; i < 150; i++) {
		int rc = run_cli(cli, i % 2 ? "dump" : "report", i % 3 ? "--json" : pidbuf,
				 i % 3 ? pidbuf : NULL, err, sizeof(err));
		runs++;
		if (rc == -1)
			crashed++;
		else if (rc == -2)
			hung++;
		else if (rc == 2) {
			twos++;
			/* one line, starting with the program's name */
			if (strncmp(err, "sockaudit", 9) != 0 || strchr(err, '\n') != strrchr(err, '\n'))
				unclear++;
		} else if (rc != 0 && rc != 1) {
			unclear++;
		}
	}
	atomic_store(&stop, true);
	pthread_join(th, NULL);
	{
		/* restore and check the holder's table still reads */
		int fd = open(table_path, O_WRONLY);
		pwrite(fd, original, original_len, 0);
		ftruncate(fd, (off_t)original_len);
		close(fd);
	}
	ok(crashed == 0, "no reader run crashed (%d of %d)", crashed, runs);
	ok(hung == 0, "no reader run hung (%d of %d)", hung, runs);
	ok(unclear == 0, "every error was one clear line (%d unclear, %d errors)", unclear, twos);
	diag("%d runs, %d ended with a clear error while the table was mangled", runs, twos);
	close(in[1]);
	waitpid(pid, NULL, 0);
	ok(kill(pid, 0) < 0, "holder exited when its stdin closed");
	free(original);
	return tap_done();
}
