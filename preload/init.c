/* Start-up: the constructor, the knobs, and the destructor. The top of
 * preload/: it calls every other unit, none calls it but the wrappers. */
#include "init.h"

#include "capture.h"
#include "lang.h"
#include "process.h"
#include "real.h"
#include "record.h"
#include "table-file.h"
#include "util.h"
#include "vfork.h"
#include "writer.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct shim shim;
__thread int shim_busy __attribute__((tls_model("initial-exec")));

static void read_env(void)
{
	const char *v;
	size_t n;

	v = getenv("SOCKAUDIT_DIR");
	if (!v || !*v)
		v = "/dev/shm";
	n = strnlen(v, sizeof(shim.dir) - 1);
	memcpy(shim.dir, v, n);
	shim.dir[n] = '\0';

	/* First: it silences the warnings below too. */
	v = getenv("SOCKAUDIT_QUIET");
	shim.quiet = v && *v && strcmp(v, "0") != 0;
	shim.depth = SA_MAX_FRAMES;
	v = getenv("SOCKAUDIT_DEPTH");
	if (v && *v) {
		char *end;
		long d;
		int saved = errno;

		errno = 0;
		d = strtol(v, &end, 10);
		if (*end == '\0' && errno == 0 && d >= 1 && d <= SA_MAX_FRAMES)
			shim.depth = (uint32_t)d;
		else   /* the value used is the default (SA_MAX_FRAMES) */
			shim_say("SOCKAUDIT_DEPTH=", v, " is not a number from 1 to 32; using 32");
		errno = saved;
	}
	v = getenv("SOCKAUDIT_INODE_AT_OPEN");
	shim.inode_at_open = v && *v && strcmp(v, "0") != 0;
	/* Java frames by JVMTI's GetStackTrace alone, never HotSpot's
	 * AsyncGetCallTrace (lang-java.c): to compare the two, or to leave a
	 * VM's class loading untouched. */
	v = getenv("SOCKAUDIT_JAVA_WALK");
	shim.java_jvmti_walk = v && strcmp(v, "jvmti") == 0;
	v = getenv("SOCKAUDIT_RUN_ID");
	if (v && *v) {
		n = strnlen(v, sizeof(shim.run_id) - 1);
		memcpy(shim.run_id, v, n);
		shim.run_id[n] = '\0';
		shim.under_run = true;
	}
}

static void find_self(void)
{
	Dl_info info;
	struct dl_find_object fo;

	if (_dl_find_object((void *)find_self, &fo) == 0) {
		shim.self_start = (uintptr_t)fo.dlfo_map_start;
		shim.self_end = (uintptr_t)fo.dlfo_map_end;
	} else if (dladdr((void *)find_self, &info)) {
		shim.self_start = (uintptr_t)info.dli_fbase;
		shim.self_end = (uintptr_t)find_self + 1;
	}
}

static void atfork_child(void)
{
	/* Eagerly give the child its own table, so a child that never calls a
	 * wrapper still shows what it inherited. _Fork() and raw clone() skip
	 * this; shim_writable() catches those lazily. */
	if (atomic_load(&shim.state) == SHIM_READY && shim.guard && shim.guard->owner_pid == 0)
		shim_fork_child(shim_getpid());
}

void shim_init(void)
{
	int expected = SHIM_UNINIT;
	int rc;

	if (!atomic_compare_exchange_strong(&shim.state, &expected, SHIM_INITIALIZING))
		return;
	shim_busy++;
	/* Without trampolines nothing tells us of a vfork: always ask. */
	if (!SHIM_VFORK_TRAMPOLINES)
		atomic_store_explicit(&shim.vfork_seen, 1, memory_order_release);
	shim_real_resolve();
	read_env();
	find_self();
	shim.uid = (uint32_t)geteuid();
	shim.pid = shim_getpid();
	shim.starttime = shim_read_starttime();

	shim.guard = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (shim.guard == MAP_FAILED || madvise(shim.guard, 4096, MADV_WIPEONFORK) != 0) {
		shim.guard = NULL;
		shim_warn("cannot set up fork detection (MADV_WIPEONFORK)", errno);
		goto off;
	}
	shim.guard->owner_pid = shim.pid;

	rc = shim_table_create(true);
	if (rc < 0) {
		shim_warn(rc == -EPERM ? "refusing a file not created by this process at"
				       : "cannot create the socket table",
			  rc == -EPERM ? 0 : -rc);
		goto off;
	}
	shim_capture_init();
	shim_modules_log_all();
	if (rc == 1)
		shim_adopt_exec();
	shim_scan_fds();
	pthread_atfork(NULL, NULL, atfork_child);
	atomic_store(&shim.state, SHIM_READY);
	shim_lang_init();
	shim_busy--;
	return;
off:
	atomic_store(&shim.state, SHIM_OFF);
	shim_busy--;
}

__attribute__((constructor)) static void shim_ctor(void)
{
	int saved = errno;

	shim_init();
	errno = saved;
}

__attribute__((destructor)) static void shim_dtor(void)
{
	int saved = errno;

	shim_exit();
	errno = saved;
}
