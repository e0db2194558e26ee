/* fuzz-frame: the receive path of the repro RPC (repro/wire.c, repro/price.c)
 * on hostile bytes. The input is what arrives on one connection: frames, each
 * a 4-byte big-endian length and a payload, back to back, as rpc_read_frame
 * hands them over. Each length goes through tw_frame_check_len with Thrift's
 * default maximum (16,384,000), as the server does; each whole payload, copied
 * to a heap block of exactly its size so that ASan sees any over-read, goes
 * through rpc_decode_call (the server's decoder), rpc_decode_reply (the
 * client's) and tw_skip, as a struct of unknown fields and as a value of the
 * type its first byte names.
 *
 * Checked beyond "no crash":
 *   - decoded strings lie inside the payload;
 *   - a decoder answers exactly what skipping the same message as unknown
 *     structs answers: the known-field readers and tw_skip agree on what is
 *     well-formed and on the nesting limit;
 *   - what the server sends back for a decoded call (price reply, or the
 *     unknown-method exception echoing the name) decodes on the client side;
 *   - decoded calls, replies and exceptions re-encode and decode to the same
 *     values.
 */
#include "fuzz.h"

#include <stdbool.h>
#include <string.h>

#include "price.h"
#include "wire.h"

#define MAX_FRAME TW_DEFAULT_MAX_FRAME
/* Frames looked at per input: more only repeats the same work. */
#define MAX_FRAMES 16

/* The repro server's answer to a Price call (repro/server.c). */
#define SERVER_ERRNO 0
#define SERVER_DISCOUNT 0.4

static volatile uint8_t sink;

/* A decoded string is a view into the payload: check it, and read it. */
static void check_str(const char *what, struct tw_str s, const uint8_t *buf, size_t len)
{
	const uint8_t *p = (const uint8_t *)s.ptr;
	uint8_t x = 0;

	if (s.len == 0)
		return;
	FUZZ_CHECK(p >= buf && s.len <= len && (size_t)(p - buf) <= len - s.len,
		   "%s (%zu bytes) lies outside the %zu-byte payload", what, s.len, len);
	for (size_t i = 0; i < s.len; i++)
		x ^= p[i];
	sink = x;
}

static bool str_same(struct tw_str a, struct tw_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* The message read as the decoders would, but with every struct skipped. */
static int skip_message(const uint8_t *p, size_t len, bool call)
{
	struct tw_msg_header h;
	struct tw_reader r;
	int err;

	tw_reader_init(&r, p, len);
	if ((err = tw_read_msg_begin(&r, &h)))
		return err;
	if (call ? h.type != TW_CALL && h.type != TW_ONEWAY
		 : h.type != TW_REPLY && h.type != TW_EXCEPTION)
		return TW_EMSGTYPE;
	if ((err = tw_skip(&r, TW_STRUCT)))
		return err;
	return tw_reader_left(&r) ? TW_ETRAILING : TW_OK;
}

/* A whole frame in w: its length prefix must be sound; returns the payload. */
static const uint8_t *frame_payload(const struct tw_writer *w, uint32_t *len)
{
	FUZZ_CHECK(w->len >= TW_FRAME_HDR, "frame of %zu bytes", w->len);
	FUZZ_CHECK(tw_frame_check_len(w->buf, MAX_FRAME, len) == TW_OK &&
		   *len == w->len - TW_FRAME_HDR, "encoded frame length %u for %zu bytes", *len,
		   w->len);
	return w->buf + TW_FRAME_HDR;
}

static bool same_req(const struct rpc_price_req *a, const struct rpc_price_req *b)
{
	const struct rpc_trace *s = &a->trace, *t = &b->trace;

	if (a->has_area != b->has_area || a->has_trace != b->has_trace)
		return false;
	if (a->has_area && a->area != b->area)
		return false;
	if (!a->has_trace)
		return true;
	return s->has_trace_id == t->has_trace_id && s->has_caller == t->has_caller &&
	       s->has_span_id == t->has_span_id &&
	       (!s->has_trace_id || str_same(s->trace_id, t->trace_id)) &&
	       (!s->has_caller || str_same(s->caller, t->caller)) &&
	       (!s->has_span_id || str_same(s->span_id, t->span_id));
}

static bool same_res(const struct rpc_price_res *a, const struct rpc_price_res *b)
{
	return a->has_err_no == b->has_err_no && a->has_passenger_discount ==
	       b->has_passenger_discount && (!a->has_err_no || a->err_no == b->err_no) &&
	       (!a->has_passenger_discount ||
		memcmp(&a->passenger_discount, &b->passenger_discount, sizeof(double)) == 0);
}

static bool same_ex(const struct rpc_app_exception *a, const struct rpc_app_exception *b)
{
	return a->has_message == b->has_message && a->has_type == b->has_type &&
	       (!a->has_message || str_same(a->message, b->message)) &&
	       (!a->has_type || a->type == b->type);
}

/* What repro/server.c sends for a decoded call, read back by the client. */
static void server_answer(const struct rpc_call *call)
{
	static const char prefix[] = "Unknown function ";
	struct rpc_price_res res = {
		.err_no = SERVER_ERRNO, .passenger_discount = SERVER_DISCOUNT,
		.has_err_no = true, .has_passenger_discount = true,
	};
	struct rpc_app_exception ex = {
		.type = RPC_APPEX_UNKNOWN_METHOD, .has_message = true, .has_type = true,
	};
	size_t namelen = call->hdr.name.len;
	/* The server's own buffer sizes. */
	size_t cap = call->is_price ? 128 : 2 * namelen + sizeof(prefix) + 64;
	uint8_t *buf = malloc(cap);
	char *msg = malloc(namelen + sizeof(prefix));
	const uint8_t *payload;
	struct rpc_reply rep;
	struct tw_writer w;
	uint32_t len;
	int err;

	FUZZ_CHECK(buf && msg, "out of memory");
	tw_writer_init(&w, buf, cap);
	if (call->is_price) {
		err = rpc_encode_price_reply(&w, call->hdr.seqid, &res);
	} else {
		memcpy(msg, prefix, sizeof(prefix) - 1);
		if (namelen)
			memcpy(msg + sizeof(prefix) - 1, call->hdr.name.ptr, namelen);
		ex.message.ptr = msg;
		ex.message.len = sizeof(prefix) - 1 + namelen;
		err = rpc_encode_exception(&w, call->hdr.name, call->hdr.seqid, &ex);
	}
	FUZZ_CHECK(err == TW_OK, "server reply does not encode: %s", tw_strerror(err));
	payload = frame_payload(&w, &len);
	err = rpc_decode_reply(payload, len, &rep);
	FUZZ_CHECK(err == TW_OK, "client cannot decode the server's reply: %s", tw_strerror(err));
	FUZZ_CHECK(rep.hdr.seqid == call->hdr.seqid, "reply seqid %d for call %d", rep.hdr.seqid,
		   call->hdr.seqid);
	if (call->is_price) {
		FUZZ_CHECK(rep.kind == RPC_REPLY_OK && same_res(&rep.res, &res),
			   "price reply decodes differently");
	} else {
		FUZZ_CHECK(rep.kind == RPC_REPLY_EXCEPTION && same_ex(&rep.ex, &ex) &&
			   str_same(rep.hdr.name, call->hdr.name),
			   "unknown-method exception decodes differently");
	}
	free(msg);
	free(buf);
}

static void check_call(const uint8_t *p, size_t len)
{
	struct rpc_call call, again;
	const struct rpc_trace *t = &call.req.trace;
	const uint8_t *payload;
	struct tw_writer w;
	uint8_t *buf;
	uint32_t n;
	int err = rpc_decode_call(p, len, &call), skip = skip_message(p, len, true);

	FUZZ_CHECK(err == skip, "rpc_decode_call says %s, skipping says %s", tw_strerror(err),
		   tw_strerror(skip));
	if (err)
		return;
	FUZZ_CHECK(call.hdr.type == TW_CALL || call.hdr.type == TW_ONEWAY, "type %u",
		   call.hdr.type);
	FUZZ_CHECK(call.is_price == tw_str_eq(call.hdr.name, RPC_PRICE_METHOD), "is_price");
	FUZZ_CHECK(call.is_price || !call.has_req, "req decoded for another method");
	check_str("method name", call.hdr.name, p, len);
	check_str("TraceId", t->trace_id, p, len);
	check_str("Caller", t->caller, p, len);
	check_str("SpanId", t->span_id, p, len);
	server_answer(&call);
	if (!call.has_req)
		return;

	/* Canonical encoding: never longer than what was received. */
	buf = malloc(len + 64);
	FUZZ_CHECK(buf, "out of memory");
	tw_writer_init(&w, buf, len + 64);
	err = rpc_encode_price_call(&w, call.hdr.seqid, &call.req);
	FUZZ_CHECK(err == TW_OK, "decoded call does not re-encode: %s", tw_strerror(err));
	payload = frame_payload(&w, &n);
	err = rpc_decode_call(payload, n, &again);
	FUZZ_CHECK(err == TW_OK && again.is_price && again.has_req &&
		   again.hdr.seqid == call.hdr.seqid && same_req(&call.req, &again.req),
		   "re-encoded call decodes differently (%s)", tw_strerror(err));
	free(buf);
}

static void check_reply(const uint8_t *p, size_t len)
{
	struct rpc_reply rep, again;
	const uint8_t *payload;
	struct tw_writer w;
	uint8_t *buf;
	uint32_t n;
	int err = rpc_decode_reply(p, len, &rep), skip = skip_message(p, len, false);

	FUZZ_CHECK(err == skip, "rpc_decode_reply says %s, skipping says %s", tw_strerror(err),
		   tw_strerror(skip));
	if (err)
		return;
	FUZZ_CHECK(rep.hdr.type == TW_REPLY || rep.hdr.type == TW_EXCEPTION, "type %u",
		   rep.hdr.type);
	FUZZ_CHECK(rep.kind == RPC_REPLY_OK || rep.kind == RPC_REPLY_EXCEPTION, "kind %d",
		   (int)rep.kind);
	FUZZ_CHECK(rep.kind == RPC_REPLY_EXCEPTION || rep.hdr.type == TW_REPLY,
		   "an EXCEPTION message decoded as a result");
	check_str("name", rep.hdr.name, p, len);
	if (rep.hdr.type == TW_EXCEPTION)
		check_str("exception message", rep.ex.message, p, len);
	else if (rep.kind == RPC_REPLY_EXCEPTION)
		FUZZ_CHECK(rep.ex.type == RPC_APPEX_MISSING_RESULT && rep.ex.has_message,
			   "REPLY without success is not MISSING_RESULT");

	if (rep.hdr.type == TW_REPLY && rep.kind != RPC_REPLY_OK)
		return;
	buf = malloc(len + 64);
	FUZZ_CHECK(buf, "out of memory");
	tw_writer_init(&w, buf, len + 64);
	if (rep.hdr.type == TW_REPLY)
		err = rpc_encode_price_reply(&w, rep.hdr.seqid, &rep.res);
	else
		err = rpc_encode_exception(&w, rep.hdr.name, rep.hdr.seqid, &rep.ex);
	FUZZ_CHECK(err == TW_OK, "decoded reply does not re-encode: %s", tw_strerror(err));
	payload = frame_payload(&w, &n);
	err = rpc_decode_reply(payload, n, &again);
	FUZZ_CHECK(err == TW_OK && again.kind == rep.kind && again.hdr.type == rep.hdr.type &&
		   again.hdr.seqid == rep.hdr.seqid &&
		   (rep.kind == RPC_REPLY_OK ? same_res(&rep.res, &again.res)
					     : same_ex(&rep.ex, &again.ex)),
		   "re-encoded reply decodes differently (%s)", tw_strerror(err));
	free(buf);
}

static void check_skip(const uint8_t *p, size_t len)
{
	struct tw_reader r;
	int err;

	tw_reader_init(&r, p, len);
	err = tw_skip(&r, TW_STRUCT);
	FUZZ_CHECK(r.pos <= len && err <= TW_OK && err >= TW_ETRAILING, "skip struct: err %d pos %zu",
		   err, r.pos);
	if (len) {
		tw_reader_init(&r, p + 1, len - 1);
		err = tw_skip(&r, p[0]);
		FUZZ_CHECK(r.pos <= len - 1 && err <= TW_OK && err >= TW_ETRAILING,
			   "skip type %u: err %d pos %zu of %zu", p[0], err, r.pos, len - 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t pos = 0;

	for (int i = 0; i < MAX_FRAMES && size - pos >= TW_FRAME_HDR; i++) {
		const uint8_t *h = data + pos;
		uint32_t want = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
		uint32_t len = 0;
		int err = tw_frame_check_len(h, MAX_FRAME, &len);
		uint8_t *payload;

		FUZZ_CHECK(len == want, "length %u read as %u", want, len);
		FUZZ_CHECK(err == (want & 0x80000000u ? TW_EFRAMENEG :
				   want > MAX_FRAME ? TW_EFRAMEBIG : TW_OK),
			   "length 0x%08x: %s", want, tw_strerror(err));
		if (err)
			break;          /* the server logs it and drops the connection */
		pos += TW_FRAME_HDR;
		if (len > size - pos)
			break;          /* the peer went away inside the frame */
		/* Exactly len bytes (none for an empty frame): ASan sees any over-read. */
		payload = malloc(len);
		FUZZ_CHECK(payload || len == 0, "out of memory");
		if (len)
			memcpy(payload, data + pos, len);
		pos += len;
		check_call(payload, len);
		check_reply(payload, len);
		check_skip(payload, len);
		free(payload);
	}
	return 0;
}
