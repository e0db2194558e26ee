/* Frames on a socket: segmentation-proof reads and writes with deadlines. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

enum rpc_io_status {
	RPC_IO_OK	= 0,
	RPC_IO_EOF	= -1,	/* peer closed before the first byte of a frame */
	RPC_IO_TRUNC	= -2,	/* peer closed inside a frame */
	RPC_IO_TIMEOUT	= -3,
	RPC_IO_FRAMEBIG	= -4,	/* length prefix above the maximum */
	RPC_IO_FRAMENEG	= -5,	/* length prefix with the top bit set */
	RPC_IO_SYS	= -6,	/* system call failed: see errno */
	RPC_IO_NOMEM	= -7,
};

/* One connection's receive buffer, reused from frame to frame. */
struct rpc_frame {
	uint8_t *data;		/* payload (no length prefix) */
	size_t cap;
	uint32_t len;		/* declared payload length */
	size_t got;		/* payload bytes received */
	uint8_t hdr[TW_FRAME_HDR];
	size_t hdr_got;		/* length prefix bytes received */
};

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t rpc_now_ms(void);
/* Absolute deadline for a relative timeout; 0 (no timeout) stays 0. */
int64_t rpc_deadline(int64_t timeout_ms);
/* poll() one fd until @events or @deadline (0: none): RPC_IO_* status. */
int rpc_io_wait(int fd, short events, int64_t deadline);

/*
 * Read one whole frame, however TCP splits it, before @timeout_ms (0: none)
 * measured from the call: idle time before the frame counts too.  On
 * RPC_IO_TRUNC and RPC_IO_FRAME* the fields of @f say how far it got.
 */
int rpc_read_frame(int fd, struct rpc_frame *f, uint32_t max_frame,
		   int64_t timeout_ms);
void rpc_frame_free(struct rpc_frame *f);

/* Send all of @buf before @timeout_ms (0: none); never raises SIGPIPE. */
int rpc_write_all(int fd, const void *buf, size_t len, int64_t timeout_ms);

const char *rpc_io_strerror(int status);
