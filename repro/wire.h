/* Thrift TBinaryProtocol (strict) + TFramedTransport over byte buffers.
 *
 * Everything here is pure: readers never touch a byte past r->len, writers
 * never past w->cap, and every failure is an error code (enum tw_err).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Thrift's TFramedTransport default maximum, not 16 MiB. */
#define TW_DEFAULT_MAX_FRAME	16384000u
/* Thrift's default recursion depth: 64 nested structs/containers are fine. */
#define TW_MAX_DEPTH		64
#define TW_FRAME_HDR		4

#define TW_VERSION_1		0x80010000u
#define TW_VERSION_MASK		0xffff0000u

enum tw_type {
	TW_STOP		= 0,
	TW_BOOL		= 2,
	TW_BYTE		= 3,
	TW_DOUBLE	= 4,
	TW_I16		= 6,
	TW_I32		= 8,
	TW_I64		= 10,
	TW_STRING	= 11,
	TW_STRUCT	= 12,
	TW_MAP		= 13,
	TW_SET		= 14,
	TW_LIST		= 15,
};

enum tw_msg_type {
	TW_CALL		= 1,
	TW_REPLY	= 2,
	TW_EXCEPTION	= 3,
	TW_ONEWAY	= 4,
};

enum tw_err {
	TW_OK		= 0,
	TW_ETRUNC	= -1,	/* input ends before the value does */
	TW_EBADVER	= -2,	/* message header is not strict version 1 */
	TW_EDEPTH	= -3,	/* more than TW_MAX_DEPTH nested structs/containers */
	TW_EBADTYPE	= -4,	/* unknown type code (garbage) */
	TW_ENEGSIZE	= -5,	/* negative string length or container size */
	TW_EFRAMEBIG	= -6,	/* frame length above the maximum */
	TW_EFRAMENEG	= -7,	/* frame length with the top bit set */
	TW_ENOSPC	= -8,	/* writer buffer too small */
	TW_EMSGTYPE	= -9,	/* message type not valid here */
	TW_ETRAILING	= -10,	/* bytes left in the frame after the message */
};

const char *tw_strerror(int err);

/* A view into a buffer: not NUL-terminated, valid while the buffer is. */
struct tw_str {
	const char *ptr;
	size_t len;
};

struct tw_writer {
	uint8_t *buf;
	size_t cap;
	size_t len;
	int err;	/* sticky: first error, later writes are no-ops */
};

struct tw_reader {
	const uint8_t *buf;
	size_t len;
	size_t pos;
};

struct tw_msg_header {
	uint8_t type;		/* enum tw_msg_type, unvalidated */
	struct tw_str name;
	int32_t seqid;
};

void tw_writer_init(struct tw_writer *w, void *buf, size_t cap);
void tw_write_bool(struct tw_writer *w, bool v);
void tw_write_i8(struct tw_writer *w, int8_t v);
void tw_write_i16(struct tw_writer *w, int16_t v);
void tw_write_i32(struct tw_writer *w, int32_t v);
void tw_write_i64(struct tw_writer *w, int64_t v);
void tw_write_double(struct tw_writer *w, double v);
void tw_write_string(struct tw_writer *w, const char *s, size_t len);
void tw_write_field_begin(struct tw_writer *w, uint8_t type, int16_t id);
void tw_write_field_stop(struct tw_writer *w);
void tw_write_msg_begin(struct tw_writer *w, uint8_t type,
			const char *name, size_t name_len, int32_t seqid);
/* Reserve the frame length, write the message, then patch it in. */
void tw_frame_begin(struct tw_writer *w, size_t *mark);
int tw_frame_end(struct tw_writer *w, size_t mark);

void tw_reader_init(struct tw_reader *r, const void *buf, size_t len);
static inline size_t tw_reader_left(const struct tw_reader *r)
{
	return r->len - r->pos;
}
int tw_read_bool(struct tw_reader *r, bool *v);
int tw_read_i8(struct tw_reader *r, int8_t *v);
int tw_read_i16(struct tw_reader *r, int16_t *v);
int tw_read_i32(struct tw_reader *r, int32_t *v);
int tw_read_i64(struct tw_reader *r, int64_t *v);
int tw_read_double(struct tw_reader *r, double *v);
int tw_read_string(struct tw_reader *r, struct tw_str *s);
/* On T_STOP, *type is TW_STOP and *id is left 0. */
int tw_read_field_begin(struct tw_reader *r, uint8_t *type, int16_t *id);
int tw_read_msg_begin(struct tw_reader *r, struct tw_msg_header *h);

/* Skip one value of @type; a struct or container needs depth_left >= 1. */
int tw_skip_depth(struct tw_reader *r, uint8_t type, int depth_left);
int tw_skip(struct tw_reader *r, uint8_t type);

/* Validate a frame's 4-byte big-endian length prefix. */
int tw_frame_check_len(const uint8_t hdr[TW_FRAME_HDR], uint32_t max_frame,
		       uint32_t *len);
void tw_frame_put_len(uint8_t hdr[TW_FRAME_HDR], uint32_t len);

bool tw_str_eq(struct tw_str s, const char *cstr);
