/* trace/recorder: load the kernel programs (recorder.bpf.c, through the
 * skeleton meson generates), attach them, say which processes to record,
 * and hand each event to a callback. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "trace/events.h"

struct tr_recorder;

typedef void (*tr_event_fn)(void *arg, const struct tr_event *ev);

/* NULL with a one-line reason in err (missing privileges named, no BTF:
 * SOCKAUDIT_TRACE_BTF names the file checked, /sys/kernel/btf/vmlinux by
 * default). */
struct tr_recorder *tr_recorder_create(tr_event_fn fn, void *arg, char *err, size_t len);
void tr_recorder_destroy(struct tr_recorder *r);
/* Record pid and (from now on) every process it forks. 0 or -errno. */
int tr_recorder_track(struct tr_recorder *r, pid_t pid);
/* Wait up to timeout_ms for events and deliver them; returns how many, or
 * -errno (-EINTR when a signal came). */
int tr_recorder_poll(struct tr_recorder *r, int timeout_ms);
/* An fd that is readable when events wait (the ring buffer's epoll fd). */
int tr_recorder_fd(struct tr_recorder *r);
/* Events of pid (the process of that pid started at start_ns, in the
 * kernel's start_boottime; 0: whichever) the ring buffer had no room for
 * so far. */
uint64_t tr_recorder_lost(struct tr_recorder *r, pid_t pid, uint64_t start_ns);
/* Events lost so far, all processes together. */
uint64_t tr_recorder_lost_total(struct tr_recorder *r);
/* Where runtime.runfinq is ([lo, hi), lo == hi: nowhere) in the image
 * pid's exec event `image` (its mono_ns) started: the kernel then judges
 * pid's closes itself while pid runs that image (events.h, tr_gc). */
void tr_recorder_gc_range(struct tr_recorder *r, pid_t pid, uint64_t image, uint64_t lo,
			  uint64_t hi);
/* Forget the lost count of that process (it exited). */
void tr_recorder_forget(struct tr_recorder *r, pid_t pid, uint64_t start_ns);

/* The capabilities the recorder needs that this process lacks, as
 * "CAP_BPF and CAP_PERFMON", or "" when it has them. Pure over the
 * effective capability mask (tested from a table). */
void tr_missing_caps(uint64_t cap_eff, char *out, size_t len);
