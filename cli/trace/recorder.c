/* trace/recorder: libbpf around the generated skeleton. The programs attach
 * through BTF (tp_btf): no tracefs is needed, and every link
 * is an fd of this process, so nothing stays attached once it is gone,
 * however it ends. */
#include "trace/recorder.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "recorder.skel.h"
#include "util/util.h"

#define CAP_SYS_ADMIN 21
#define CAP_PERFMON   38
#define CAP_BPF       39

struct tr_recorder {
	struct recorder_bpf *skel;
	struct ring_buffer *rb;
	tr_event_fn fn;
	void *arg;
};

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf's own chatter only on request: the CLI says one line. */
	if (!getenv("SOCKAUDIT_BPF_DEBUG"))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void tr_missing_caps(uint64_t cap_eff, char *out, size_t len)
{
	bool admin = cap_eff & (1ull << CAP_SYS_ADMIN);
	bool bpf = admin || (cap_eff & (1ull << CAP_BPF));
	bool perfmon = admin || (cap_eff & (1ull << CAP_PERFMON));

	snprintf(out, len, "%s%s%s", bpf ? "" : "CAP_BPF", !bpf && !perfmon ? " and " : "",
		 perfmon ? "" : "CAP_PERFMON");
}

static uint64_t cap_eff_self(void)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	uint64_t v = 0;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %lx", &v) == 1)
			break;
	return v;
}

/* SOCKAUDIT_TRACE_RING: the ring buffer's size in bytes (a power of two,
 * at least 4096) instead of the 8 MiB built in; 0 when unset. A test makes
 * it small to overflow it on purpose. Invalid values are ignored with a
 * warning. */
static unsigned ring_size(void)
{
	const char *s = getenv("SOCKAUDIT_TRACE_RING");
	unsigned long v;
	char *end;

	if (!s || !*s)
		return 0;
	v = strtoul(s, &end, 10);
	if (*end || v < 4096 || v > (1ul << 30) || (v & (v - 1))) {
		warnx_("trace: SOCKAUDIT_TRACE_RING=%s is not a power of two from 4096 to 2^30: "
		       "ignored", s);
		return 0;
	}
	return (unsigned)v;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct tr_recorder *r = ctx;
	struct tr_event whole;

	if (size >= sizeof(struct tr_event)) {
		r->fn(r->arg, data);
	} else if (size >= TR_EVENT_SHORT) {
		memset(&whole, 0, sizeof(whole));
		memcpy(&whole, data, size);
		r->fn(r->arg, &whole);
	}
	return 0;
}

struct tr_recorder *tr_recorder_create(tr_event_fn fn, void *arg, char *err, size_t len)
{
	/* SOCKAUDIT_TRACE_BTF: where the kernel's BTF is read (CO-RE relocates
	 * against it); tests point it at a missing file to play a kernel
	 * built without BTF. */
	const char *btf = getenv("SOCKAUDIT_TRACE_BTF");
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	struct tr_recorder *r;
	char missing[64];
	unsigned ring;
	int rc;

	if (!btf || !*btf)
		btf = "/sys/kernel/btf/vmlinux";
	opts.btf_custom_path = btf;
	tr_missing_caps(cap_eff_self(), missing, sizeof(missing));
	if (missing[0]) {
		snprintf(err, len, "recording needs %s (run as root, or give sockaudit "
			 "cap_bpf,cap_perfmon+ep)", missing);
		return NULL;
	}
	if (access(btf, R_OK) != 0) {
		snprintf(err, len, "this kernel has no BTF (%s: %s): the recorder needs a kernel "
			 "built with CONFIG_DEBUG_INFO_BTF=y", btf, strerror(errno));
		return NULL;
	}
	libbpf_set_print(libbpf_log);
	r = xcalloc(1, sizeof(*r));
	r->fn = fn;
	r->arg = arg;
	r->skel = recorder_bpf__open_opts(&opts);
	if (!r->skel) {
		snprintf(err, len, "cannot open the recorder's kernel programs: %s", strerror(errno));
		goto fail;
	}
	ring = ring_size();
	if (ring && bpf_map__set_max_entries(r->skel->maps.events, ring) != 0) {
		snprintf(err, len, "cannot size the ring buffer to %u bytes", ring);
		goto fail;
	}
	rc = recorder_bpf__load(r->skel);
	if (rc) {
		snprintf(err, len, "cannot load the recorder's kernel programs: %s "
			 "(SOCKAUDIT_BPF_DEBUG=1 shows the verifier's log)", strerror(-rc));
		goto fail;
	}
	rc = recorder_bpf__attach(r->skel);
	if (rc) {
		snprintf(err, len, "cannot attach the recorder's kernel programs: %s",
			 strerror(-rc));
		goto fail;
	}
	r->rb = ring_buffer__new(bpf_map__fd(r->skel->maps.events), on_event, r, NULL);
	if (!r->rb) {
		snprintf(err, len, "cannot map the recorder's ring buffer: %s", strerror(errno));
		goto fail;
	}
	return r;
fail:
	tr_recorder_destroy(r);
	return NULL;
}

void tr_recorder_destroy(struct tr_recorder *r)
{
	if (!r)
		return;
	ring_buffer__free(r->rb);
	recorder_bpf__destroy(r->skel);
	free(r);
}

int tr_recorder_track(struct tr_recorder *r, pid_t pid)
{
	uint32_t key = (uint32_t)pid, one = 1;

	if (bpf_map__update_elem(r->skel->maps.tracked, &key, sizeof(key), &one, sizeof(one),
				 BPF_ANY) != 0)
		return -errno;
	return 0;
}

int tr_recorder_poll(struct tr_recorder *r, int timeout_ms)
{
	int n = ring_buffer__poll(r->rb, timeout_ms), more;

	/* Socket events do not wake us (recorder.bpf.c, quiet()): what came
	 * since is read whether or not the wait ended on a wake-up. */
	if (n < 0)
		return n;
	more = ring_buffer__consume(r->rb);
	return more < 0 ? more : n + more;
}

int tr_recorder_fd(struct tr_recorder *r)
{
	return ring_buffer__epoll_fd(r->rb);
}

uint64_t tr_recorder_lost(struct tr_recorder *r, pid_t pid, uint64_t start_ns)
{
	uint32_t key = (uint32_t)pid;
	struct tr_lost v;

	if (bpf_map__lookup_elem(r->skel->maps.lost, &key, sizeof(key), &v, sizeof(v), 0) != 0)
		return 0;
	return !start_ns || v.start_ns == start_ns ? v.count : 0;
}

uint64_t tr_recorder_lost_total(struct tr_recorder *r)
{
	uint32_t key = 0;
	uint64_t v = 0;

	if (bpf_map__lookup_elem(r->skel->maps.lost_total, &key, sizeof(key), &v, sizeof(v), 0))
		return 0;
	return v;
}

/* Only the lost count: the kernel removed pid from `tracked` at its exit,
 * and by now another process may have the pid, tracked (forked by a
 * recorded parent) and counting its own losses under it. Between the
 * lookup and the delete that process could lose a first event, whose
 * count would go with the entry: a window of two system calls, only when
 * a pid is reused at once. */
void tr_recorder_forget(struct tr_recorder *r, pid_t pid, uint64_t start_ns)
{
	uint32_t key = (uint32_t)pid;
	struct tr_lost v;

	if (bpf_map__lookup_elem(r->skel->maps.lost, &key, sizeof(key), &v, sizeof(v), 0) != 0)
		return;
	if (!start_ns || v.start_ns == start_ns)
		bpf_map__delete_elem(r->skel->maps.lost, &key, sizeof(key), 0);
}

void tr_recorder_gc_range(struct tr_recorder *r, pid_t pid, uint64_t image, uint64_t lo,
			  uint64_t hi)
{
	uint32_t key = (uint32_t)pid;
	struct tr_gc v = { .image = image, .lo = lo, .hi = hi };

	/* A failure only leaves the stacks on: user space decides then. */
	bpf_map__update_elem(r->skel->maps.gc_range, &key, sizeof(key), &v, sizeof(v), BPF_ANY);
}
