/* setuid() and its family: a process that drops privileges for good (root
 * binds, then becomes a service user) gives its table to the new user while
 * it still may, so it can back new pages, remove the table at exit, and the
 * CLI finds it under the process's euid (docs/design.md, "Table name").
 * A temporary change (seteuid, a saved uid kept) leaves the table alone:
 * handing a root process's table to a user it visits would let that user
 * write what the root process reads.
 *
 * glibc applies these calls to every thread through a signal; the wrapper
 * runs only in the calling thread, before and after the real call, with
 * async-signal-safe calls only, and returns what the call returned with its
 * errno. */
#include "gate.h"
#include "shim.h"
#include "table-file.h"
#include "util.h"

#include <dlfcn.h>
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NO_UID ((uid_t)-1)

struct ids {
	uid_t r, e, s;
};

static bool ids_now(struct ids *i)
{
	return shim_sys(SYS_getresuid, &i->r, &i->e, &i->s) == 0;
}

static bool single(const struct ids *i)
{
	return i->r == i->e && i->e == i->s;
}

/* Before the call, with what it will leave when it succeeds: give the table
 * now when that is one identity other than the table's owner. Returns true
 * when the table moved (and must move back should the call fail). */
static bool before(const struct ids *want, uint32_t *prev)
{
	int err = errno;
	bool gave;

	if (!single(want) || want->e == NO_UID || !shim_writable() || want->e == shim.uid)
		return false;
	*prev = shim.uid;
	gave = shim_table_give(want->e) == 0;
	/* A call that succeeds leaves errno as it found it: so must we. */
	errno = err;
	return gave;
}

/* After it: undo on failure; on success, follow an identity the prediction
 * missed (CAP_SETUID without euid 0), where the process may still chown. */
static int after(int rc, bool gave, uint32_t prev)
{
	int err = errno;
	struct ids now;

	if (rc != 0) {
		if (gave)
			shim_table_give(prev);
	} else if (ids_now(&now) && single(&now) && now.e != shim.uid && shim_writable()) {
		shim_table_give(now.e);
	}
	errno = err;
	return rc;
}

static void resolve(void **real, const char *name)
{
	/* Before the constructor (another library's): resolve as it would. */
	if (!*real)
		shim_writable();
	if (!*real)
		*real = dlsym(RTLD_NEXT, name);
}

#define REAL(name) (resolve((void **)&shim_real.name, #name), shim_real.name)

/* No C library function to call (cannot happen with glibc): fail as the
 * call would where it does not exist, rather than crash. */
#define NEED(real) \
	do { \
		if (!(real)) { \
			errno = ENOSYS; \
			return -1; \
		} \
	} while (0)

SHIM_EXPORT int setuid(uid_t uid)
{
	int (*real)(uid_t) = REAL(setuid);
	struct ids old, want;
	uint32_t prev = 0;
	bool gave = false;

	NEED(real);
	if (ids_now(&old)) {
		/* Privileged: all three; else the effective one only. */
		want = old.e == 0 ? (struct ids){ uid, uid, uid } : (struct ids){ old.r, uid, old.s };
		gave = before(&want, &prev);
	}
	return after(real(uid), gave, prev);
}

SHIM_EXPORT int seteuid(uid_t euid)
{
	int (*real)(uid_t) = REAL(seteuid);
	struct ids old, want;
	uint32_t prev = 0;
	bool gave = false;

	NEED(real);
	if (ids_now(&old)) {
		want = (struct ids){ old.r, euid, old.s };
		gave = before(&want, &prev);
	}
	return after(real(euid), gave, prev);
}

SHIM_EXPORT int setreuid(uid_t ruid, uid_t euid)
{
	int (*real)(uid_t, uid_t) = REAL(setreuid);
	struct ids old, want;
	uint32_t prev = 0;
	bool gave = false;

	NEED(real);
	if (ids_now(&old)) {
		want.r = ruid != NO_UID ? ruid : old.r;
		want.e = euid != NO_UID ? euid : old.e;
		/* setreuid(2): the saved uid follows the effective one when the
		 * real one is set or the effective one leaves the real one. */
		want.s = ruid != NO_UID || (euid != NO_UID && euid != old.r) ? want.e : old.s;
		gave = before(&want, &prev);
	}
	return after(real(ruid, euid), gave, prev);
}

SHIM_EXPORT int setresuid(uid_t ruid, uid_t euid, uid_t suid)
{
	int (*real)(uid_t, uid_t, uid_t) = REAL(setresuid);
	struct ids old, want;
	uint32_t prev = 0;
	bool gave = false;

	NEED(real);
	if (ids_now(&old)) {
		want.r = ruid != NO_UID ? ruid : old.r;
		want.e = euid != NO_UID ? euid : old.e;
		want.s = suid != NO_UID ? suid : old.s;
		gave = before(&want, &prev);
	}
	return after(real(ruid, euid, suid), gave, prev);
}
