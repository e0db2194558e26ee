/* TBinaryProtocol strict encoding and decoding over bounded buffers. */
#include "wire.h"

#include <string.h>

const char *tw_strerror(int err)
{
	switch (err) {
	case TW_OK:		return "ok";
	case TW_ETRUNC:		return "truncated message";
	case TW_EBADVER:	return "bad version in message header";
	case TW_EDEPTH:		return "nesting too deep";
	case TW_EBADTYPE:	return "garbage: invalid type code";
	case TW_ENEGSIZE:	return "garbage: negative size";
	case TW_EFRAMEBIG:	return "oversize frame";
	case TW_EFRAMENEG:	return "negative frame length";
	case TW_ENOSPC:		return "output buffer too small";
	case TW_EMSGTYPE:	return "unexpected message type";
	case TW_ETRAILING:	return "garbage: trailing bytes after message";
	}
	return "unknown error";
}

void tw_writer_init(struct tw_writer *w, void *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->err = TW_OK;
}

static void tw_put(struct tw_writer *w, const void *p, size_t n)
{
	if (w->err)
		return;
	if (n > w->cap - w->len) {
		w->err = TW_ENOSPC;
		return;
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static void tw_put_be(struct tw_writer *w, uint64_t v, unsigned int n)
{
	uint8_t b[8];
	unsigned int i;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	tw_put(w, b, n);
}

void tw_write_bool(struct tw_writer *w, bool v)
{
	tw_put_be(w, v ? 1 : 0, 1);
}

void tw_write_i8(struct tw_writer *w, int8_t v)
{
	tw_put_be(w, (uint8_t)v, 1);
}

void tw_write_i16(struct tw_writer *w, int16_t v)
{
	tw_put_be(w, (uint16_t)v, 2);
}

void tw_write_i32(struct tw_writer *w, int32_t v)
{
	tw_put_be(w, (uint32_t)v, 4);
}

void tw_write_i64(struct tw_writer *w, int64_t v)
{
	tw_put_be(w, (uint64_t)v, 8);
}

void tw_write_double(struct tw_writer *w, double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits));
	tw_put_be(w, bits, 8);
}

void tw_write_string(struct tw_writer *w, const char *s, size_t len)
{
	if (len > INT32_MAX) {
		if (!w->err)
			w->err = TW_ENOSPC;
		return;
	}
	tw_write_i32(w, (int32_t)len);
	tw_put(w, s, len);
}

void tw_write_field_begin(struct tw_writer *w, uint8_t type, int16_t id)
{
	tw_put_be(w, type, 1);
	tw_write_i16(w, id);
}

void tw_write_field_stop(struct tw_writer *w)
{
	tw_put_be(w, TW_STOP, 1);
}

void tw_write_msg_begin(struct tw_writer *w, uint8_t type,
			const char *name, size_t name_len, int32_t seqid)
{
	tw_write_i32(w, (int32_t)(TW_VERSION_1 | type));
	tw_write_string(w, name, name_len);
	tw_write_i32(w, seqid);
}

void tw_frame_begin(struct tw_writer *w, size_t *mark)
{
	*mark = w->len;
	tw_write_i32(w, 0);
}

int tw_frame_end(struct tw_writer *w, size_t mark)
{
	size_t payload;

	if (w->err)
		return w->err;
	payload = w->len - mark - TW_FRAME_HDR;
	/* The peer would refuse it: do not produce what we cannot read back. */
	if (payload > TW_DEFAULT_MAX_FRAME)
		return TW_EFRAMEBIG;
	tw_frame_put_len(w->buf + mark, (uint32_t)payload);
	return TW_OK;
}

void tw_reader_init(struct tw_reader *r, const void *buf, size_t len)
{
	r->buf = buf;
	r->len = len;
	r->pos = 0;
}

static int tw_get_be(struct tw_reader *r, unsigned int n, uint64_t *v)
{
	uint64_t x = 0;
	unsigned int i;

	if (tw_reader_left(r) < n)
		return TW_ETRUNC;
	for (i = 0; i < n; i++)
		x = (x << 8) | r->buf[r->pos + i];
	r->pos += n;
	*v = x;
	return TW_OK;
}

int tw_read_bool(struct tw_reader *r, bool *v)
{
	uint64_t x;
	int err = tw_get_be(r, 1, &x);

	if (!err)
		*v = x != 0;
	return err;
}

int tw_read_i8(struct tw_reader *r, int8_t *v)
{
	uint64_t x;
	int err = tw_get_be(r, 1, &x);

	if (!err)
		*v = (int8_t)(uint8_t)x;
	return err;
}

int tw_read_i16(struct tw_reader *r, int16_t *v)
{
	uint64_t x;
	int err = tw_get_be(r, 2, &x);

	if (!err)
		*v = (int16_t)(uint16_t)x;
	return err;
}

int tw_read_i32(struct tw_reader *r, int32_t *v)
{
	uint64_t x;
	int err = tw_get_be(r, 4, &x);

	if (!err)
		*v = (int32_t)(uint32_t)x;
	return err;
}

int tw_read_i64(struct tw_reader *r, int64_t *v)
{
	uint64_t x;
	int err = tw_get_be(r, 8, &x);

	if (!err)
		*v = (int64_t)x;
	return err;
}

int tw_read_double(struct tw_reader *r, double *v)
{
	uint64_t x;
	int err = tw_get_be(r, 8, &x);

	if (!err)
		memcpy(v, &x, sizeof(*v));
	return err;
}

int tw_read_string(struct tw_reader *r, struct tw_str *s)
{
	int32_t n;
	int err = tw_read_i32(r, &n);

	if (err)
		return err;
	if (n < 0)
		return TW_ENEGSIZE;
	if (tw_reader_left(r) < (size_t)n)
		return TW_ETRUNC;
	s->ptr = (const char *)r->buf + r->pos;
	s->len = (size_t)n;
	r->pos += (size_t)n;
	return TW_OK;
}

int tw_read_field_begin(struct tw_reader *r, uint8_t *type, int16_t *id)
{
	int8_t t;
	int err = tw_read_i8(r, &t);

	if (err)
		return err;
	*type = (uint8_t)t;
	*id = 0;
	if (*type == TW_STOP)
		return TW_OK;
	return tw_read_i16(r, id);
}

int tw_read_msg_begin(struct tw_reader *r, struct tw_msg_header *h)
{
	int32_t ver;
	int err = tw_read_i32(r, &ver);

	if (err)
		return err;
	if (((uint32_t)ver & TW_VERSION_MASK) != TW_VERSION_1)
		return TW_EBADVER;
	h->type = (uint8_t)((uint32_t)ver & 0xff);
	err = tw_read_string(r, &h->name);
	if (err)
		return err;
	return tw_read_i32(r, &h->seqid);
}

/* Fixed wire width of a scalar type, 0 for variable ones, -1 for unknown. */
static int tw_fixed_width(uint8_t type)
{
	switch (type) {
	case TW_BOOL:
	case TW_BYTE:	return 1;
	case TW_I16:	return 2;
	case TW_I32:	return 4;
	case TW_DOUBLE:
	case TW_I64:	return 8;
	case TW_STRING:
	case TW_STRUCT:
	case TW_MAP:
	case TW_SET:
	case TW_LIST:	return 0;
	}
	return -1;
}

static int tw_read_size(struct tw_reader *r, int32_t *n)
{
	int err = tw_read_i32(r, n);

	if (err)
		return err;
	return *n < 0 ? TW_ENEGSIZE : TW_OK;
}

int tw_skip_depth(struct tw_reader *r, uint8_t type, int depth_left)
{
	int width = tw_fixed_width(type);
	struct tw_str s;
	uint8_t ft, kt, vt;
	int16_t id;
	int8_t b;
	int32_t n, i;
	int err;

	if (width < 0)
		return TW_EBADTYPE;
	if (width > 0) {
		if (tw_reader_left(r) < (size_t)width)
			return TW_ETRUNC;
		r->pos += (size_t)width;
		return TW_OK;
	}
	if (type == TW_STRING)
		return tw_read_string(r, &s);
	if (depth_left < 1)
		return TW_EDEPTH;

	switch (type) {
	case TW_STRUCT:
		for (;;) {
			err = tw_read_field_begin(r, &ft, &id);
			if (err)
				return err;
			if (ft == TW_STOP)
				return TW_OK;
			err = tw_skip_depth(r, ft, depth_left - 1);
			if (err)
				return err;
		}
	case TW_MAP:
		if ((err = tw_read_i8(r, &b)))
			return err;
		kt = (uint8_t)b;
		if ((err = tw_read_i8(r, &b)))
			return err;
		vt = (uint8_t)b;
		if ((err = tw_read_size(r, &n)))
			return err;
		if (n > 0 && (tw_fixed_width(kt) < 0 || tw_fixed_width(vt) < 0))
			return TW_EBADTYPE;
		/* Every entry takes at least 2 bytes: reject hopeless sizes early. */
		if ((size_t)n > tw_reader_left(r) / 2)
			return TW_ETRUNC;
		for (i = 0; i < n; i++) {
			if ((err = tw_skip_depth(r, kt, depth_left - 1)))
				return err;
			if ((err = tw_skip_depth(r, vt, depth_left - 1)))
				return err;
		}
		return TW_OK;
	case TW_SET:
	case TW_LIST:
		if ((err = tw_read_i8(r, &b)))
			return err;
		vt = (uint8_t)b;
		if ((err = tw_read_size(r, &n)))
			return err;
		if (n > 0 && tw_fixed_width(vt) < 0)
			return TW_EBADTYPE;
		if ((size_t)n > tw_reader_left(r))
			return TW_ETRUNC;
		for (i = 0; i < n; i++)
			if ((err = tw_skip_depth(r, vt, depth_left - 1)))
				return err;
		return TW_OK;
	}
	return TW_EBADTYPE;
}

int tw_skip(struct tw_reader *r, uint8_t type)
{
	return tw_skip_depth(r, type, TW_MAX_DEPTH);
}

int tw_frame_check_len(const uint8_t hdr[TW_FRAME_HDR], uint32_t max_frame,
		       uint32_t *len)
{
	uint32_t n = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
		     (uint32_t)hdr[2] << 8 | hdr[3];

	*len = n;
	if (n & 0x80000000u)
		return TW_EFRAMENEG;
	if (n > max_frame)
		return TW_EFRAMEBIG;
	return TW_OK;
}

void tw_frame_put_len(uint8_t hdr[TW_FRAME_HDR], uint32_t len)
{
	hdr[0] = (uint8_t)(len >> 24);
	hdr[1] = (uint8_t)(len >> 16);
	hdr[2] = (uint8_t)(len >> 8);
	hdr[3] = (uint8_t)len;
}

bool tw_str_eq(struct tw_str s, const char *cstr)
{
	size_t n = strlen(cstr);

	return s.len == n && (n == 0 || memcmp(s.ptr, cstr, n) == 0);
}
