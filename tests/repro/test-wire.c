/* Unit tests of the repro wire library: tables of byte-exact cases.
 *
 * Built twice by meson, once with ASan+UBSan: every decode of a truncated
 * input runs over a heap block of exactly that size, so reading one byte
 * past the end fails the sanitized run.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "hostport.h"
#include "price.h"
#include "tap.h"
#include "wire.h"

#include "thrift-vectors.h"

/* The same exception as servers that omit the type send it. */
static const char exc_notype_hex[] =
	"80010003 00000005 5072696365 00000001"
	"0b 0001 00000016 556e6b6e6f776e2066756e6374696f6e205072696365"
	"00";

#define BUF_MAX	(64 * 1024)

struct buf {
	uint8_t b[BUF_MAX];
	size_t n;
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static void put_hex(struct buf *b, const char *hex)
{
	int hi = -1, v;

	for (; *hex; hex++) {
		if (*hex == ' ')
			continue;
		v = hexval(*hex);
		if (v < 0)
			bail("bad hex digit '%c' in test data", *hex);
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (b->n == BUF_MAX)
			bail("test buffer overflow");
		b->b[b->n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	if (hi >= 0)
		bail("odd hex digit count in test data");
}

static void put_bytes(struct buf *b, const void *p, size_t n)
{
	if (n > BUF_MAX - b->n)
		bail("test buffer overflow");
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void buf_hex(struct buf *b, const char *hex)
{
	b->n = 0;
	put_hex(b, hex);
}

static char *to_hex(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);
	size_t i;

	if (!s)
		bail("out of memory");
	for (i = 0; i < n; i++)
		sprintf(s + 2 * i, "%02x", p[i]);
	s[2 * n] = '\0';
	return s;
}

static bool bytes_eq(const char *what, const uint8_t *got, size_t got_n,
		     const struct buf *want)
{
	bool same = got_n == want->n && !memcmp(got, want->b, got_n);

	if (!same) {
		char *g = to_hex(got, got_n), *w = to_hex(want->b, want->n);

		diag("%s: got  %s", what, g);
		diag("%s: want %s", what, w);
		free(g);
		free(w);
	}
	return same;
}

static struct tw_str S(const char *s)
{
	return (struct tw_str){ s, strlen(s) };
}

static bool str_is(struct tw_str s, const char *want, size_t n)
{
	return s.len == n && (n == 0 || !memcmp(s.ptr, want, n));
}

static const uint8_t *payload(const struct buf *frame)
{
	return frame->b + TW_FRAME_HDR;
}

static size_t payload_len(const struct buf *frame)
{
	return frame->n - TW_FRAME_HDR;
}

/* A heap copy of exactly @n bytes so that ASan sees any over-read. */
static uint8_t *exact_copy(const uint8_t *p, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);

	if (!c)
		bail("out of memory");
	memcpy(c, p, n);
	return c;
}

static void test_encode_exact(void)
{
	struct rpc_price_req req = {
		.area = 1, .has_area = true, .has_trace = true,
		.trace = {
			.trace_id = S("s"), .caller = S("d"), .span_id = S("f"),
			.has_trace_id = true, .has_caller = true,
			.has_span_id = true,
		},
	};
	struct rpc_price_res res = {
		.err_no = 0, .passenger_discount = 0.4,
		.has_err_no = true, .has_passenger_discount = true,
	};
	struct rpc_app_exception ex = {
		.message = S("Unknown function Nope"),
		.type = RPC_APPEX_UNKNOWN_METHOD,
		.has_message = true, .has_type = true,
	};
	uint8_t out[512];
	struct tw_writer w;
	struct buf want;
	int err;

	buf_hex(&want, call_hex);
	tw_writer_init(&w, out, sizeof(out));
	err = rpc_encode_price_call(&w, 1, &req);
	ok(err == TW_OK && bytes_eq("call", out, w.len, &want),
	   "CALL frame Price(Area=1, Trace s/d/f) seqid 1 is byte-exact");

	buf_hex(&want, reply_hex);
	tw_writer_init(&w, out, sizeof(out));
	err = rpc_encode_price_reply(&w, 1, &res);
	ok(err == TW_OK && bytes_eq("reply", out, w.len, &want),
	   "REPLY frame ErrNo=0 PassengerDiscount=0.4 seqid 1 is byte-exact");

	buf_hex(&want, exc_hex);
	tw_writer_init(&w, out, sizeof(out));
	err = rpc_encode_exception(&w, S("Nope"), 7, &ex);
	ok(err == TW_OK && bytes_eq("exception", out, w.len, &want),
	   "EXCEPTION frame UNKNOWN_METHOD for 'Nope' seqid 7 is byte-exact");
}

static void test_decode_known(void)
{
	struct rpc_reply rep;
	struct rpc_call call;
	struct buf b;
	int err;

	buf_hex(&b, call_hex);
	err = rpc_decode_call(payload(&b), payload_len(&b), &call);
	ok(err == TW_OK && call.hdr.type == TW_CALL && call.hdr.seqid == 1 &&
	   call.is_price && call.has_req && call.req.has_area &&
	   call.req.area == 1 && call.req.has_trace &&
	   str_is(call.req.trace.trace_id, "s", 1) &&
	   str_is(call.req.trace.caller, "d", 1) &&
	   str_is(call.req.trace.span_id, "f", 1),
	   "reference CALL decodes to every field (err %d)", err);

	buf_hex(&b, reply_hex);
	err = rpc_decode_reply(payload(&b), payload_len(&b), &rep);
	ok(err == TW_OK && rep.kind == RPC_REPLY_OK && rep.hdr.seqid == 1 &&
	   tw_str_eq(rep.hdr.name, "Price") && rep.res.has_err_no &&
	   rep.res.err_no == 0 && rep.res.has_passenger_discount &&
	   rep.res.passenger_discount == 0.4,
	   "reference REPLY decodes to ErrNo=0 PassengerDiscount=0.4 (err %d)",
	   err);

	buf_hex(&b, exc_hex);
	err = rpc_decode_reply(payload(&b), payload_len(&b), &rep);
	ok(err == TW_OK && rep.kind == RPC_REPLY_EXCEPTION &&
	   rep.hdr.type == TW_EXCEPTION && rep.hdr.seqid == 7 &&
	   tw_str_eq(rep.hdr.name, "Nope") &&
	   tw_str_eq(rep.ex.message, "Unknown function Nope") &&
	   rep.ex.has_type && rep.ex.type == RPC_APPEX_UNKNOWN_METHOD,
	   "reference EXCEPTION decodes to message and type (err %d)", err);

	buf_hex(&b, exc_notype_hex);
	err = rpc_decode_reply(b.b, b.n, &rep);
	ok(err == TW_OK && rep.kind == RPC_REPLY_EXCEPTION &&
	   tw_str_eq(rep.ex.message, "Unknown function Price") &&
	   !rep.ex.has_type && rep.ex.type == 0,
	   "EXCEPTION without field 2 (type) is accepted (err %d)", err);
}

struct req_case {
	int32_t seqid, area;
	const char *trace_id, *caller, *span_id;
	size_t trace_id_len;	/* explicit: may hold NUL bytes */
	bool has_trace;
};

static void test_roundtrip_req(void)
{
	static char long_id[3000];
	struct req_case cases[] = {
		{ 1, 1, "s", "d", "f", 1, true },
		{ 0, 0, "", "", "", 0, true },
		{ -1, -1, "a\0b\xff", "caller", "span", 4, true },
		{ INT32_MAX, INT32_MIN, long_id, "c", "s", sizeof(long_id), true },
		{ INT32_MIN, INT32_MAX, NULL, NULL, NULL, 0, false },
	};
	size_t i;

	memset(long_id, 'x', sizeof(long_id));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct req_case *c = &cases[i];
		struct rpc_price_req req = {
			.area = c->area, .has_area = true,
			.has_trace = c->has_trace,
		};
		static uint8_t out[8192];
		struct tw_writer w;
		struct rpc_call call;
		int err;

		if (c->has_trace) {
			req.trace.trace_id = (struct tw_str){ c->trace_id,
							      c->trace_id_len };
			req.trace.caller = S(c->caller);
			req.trace.span_id = S(c->span_id);
			req.trace.has_trace_id = req.trace.has_caller =
				req.trace.has_span_id = true;
		}
		tw_writer_init(&w, out, sizeof(out));
		err = rpc_encode_price_call(&w, c->seqid, &req);
		if (!err)
			err = rpc_decode_call(out + TW_FRAME_HDR,
					      w.len - TW_FRAME_HDR, &call);
		ok(err == TW_OK && call.hdr.seqid == c->seqid &&
		   call.has_req && call.req.area == c->area &&
		   call.req.has_trace == c->has_trace &&
		   (!c->has_trace ||
		    (str_is(call.req.trace.trace_id, c->trace_id,
			    c->trace_id_len) &&
		     tw_str_eq(call.req.trace.caller, c->caller) &&
		     tw_str_eq(call.req.trace.span_id, c->span_id))),
		   "CALL round trip %zu (seqid %d, area %d, trace %s)", i,
		   c->seqid, c->area, c->has_trace ? "set" : "unset");
	}
}

static void test_roundtrip_res(void)
{
	struct {
		int32_t seqid, err_no;
		double discount;
		bool has_discount;
	} cases[] = {
		{ 1, 0, 0.4, true },
		{ 2, 3, 0.25, true },
		{ INT32_MIN, -7, -1.5e300, true },
		{ INT32_MAX, INT32_MAX, -0.0, true },
		{ -1, 1, INFINITY, true },
		{ 9, 42, 0, false },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rpc_price_res res = {
			.err_no = cases[i].err_no, .has_err_no = true,
			.passenger_discount = cases[i].discount,
			.has_passenger_discount = cases[i].has_discount,
		};
		struct rpc_reply rep;
		struct tw_writer w;
		uint8_t out[256];
		int err;

		tw_writer_init(&w, out, sizeof(out));
		err = rpc_encode_price_reply(&w, cases[i].seqid, &res);
		if (!err)
			err = rpc_decode_reply(out + TW_FRAME_HDR,
					       w.len - TW_FRAME_HDR, &rep);
		ok(err == TW_OK && rep.kind == RPC_REPLY_OK &&
		   rep.hdr.seqid == cases[i].seqid &&
		   rep.res.err_no == cases[i].err_no &&
		   rep.res.has_passenger_discount == cases[i].has_discount &&
		   (!cases[i].has_discount ||
		    !memcmp(&rep.res.passenger_discount, &cases[i].discount,
			    sizeof(double))),
		   "REPLY round trip %zu (ErrNo %d, discount %g%s)", i,
		   cases[i].err_no, cases[i].discount,
		   cases[i].has_discount ? "" : " unset");
	}
}

/* One encoded value of every Thrift type, as an unknown field would hold. */
static const struct skip_case {
	const char *name;
	uint8_t type;
	const char *hex;
} skip_cases[] = {
	{ "bool", TW_BOOL, "01" },
	{ "byte", TW_BYTE, "ff" },
	{ "i16", TW_I16, "8000" },
	{ "i32", TW_I32, "7fffffff" },
	{ "i64", TW_I64, "0102030405060708" },
	{ "double", TW_DOUBLE, "3fd999999999999a" },
	{ "string", TW_STRING, "00000003 616263" },
	{ "empty binary", TW_STRING, "00000000" },
	{ "struct", TW_STRUCT, "08 0001 00000005 0b 0002 00000001 78 00" },
	{ "empty struct", TW_STRUCT, "00" },
	{ "struct with every scalar", TW_STRUCT,
	  "02 0001 01 03 0002 7f 06 0003 0102 08 0004 01020304"
	  "0a 0005 0102030405060708 04 0006 4000000000000000 00" },
	{ "map<string,i32>", TW_MAP,
	  "0b 08 00000002 00000001 61 00000001 00000001 62 00000002" },
	{ "empty map of unset types", TW_MAP, "00 00 00000000" },
	{ "map<i32,list<string>>", TW_MAP,
	  "08 0f 00000001 00000001 0b 00000001 00000001 7a" },
	{ "set<i16>", TW_SET, "06 00000003 0001 0002 0003" },
	{ "list<struct>", TW_LIST, "0c 00000002 08 0001 00000001 00 00" },
	{ "list<list<i32>>", TW_LIST,
	  "0f 00000002 08 00000001 00000009 08 00000000" },
	{ "empty list<bool>", TW_LIST, "02 00000000" },
	{ "list<double>", TW_LIST, "04 00000001 3ff0000000000000" },
	{ "set<map<byte,bool>>", TW_SET, "0d 00000001 03 02 00000001 05 01" },
};

#define N_SKIP	(sizeof(skip_cases) / sizeof(skip_cases[0]))

static void put_call_header(struct buf *b, const char *name, int32_t seqid)
{
	uint8_t h[4];
	size_t n = strlen(name);

	put_hex(b, "80010001");
	tw_frame_put_len(h, (uint32_t)n);
	put_bytes(b, h, 4);
	put_bytes(b, name, n);
	tw_frame_put_len(h, (uint32_t)seqid);
	put_bytes(b, h, 4);
}

/* Price_args.req holding Area=1 and Trace s/d/f. */
static const char req_field_hex[] =
	"0c 0001 08 0001 00000001 0c 0002 0b 0001 00000001 73"
	"0b 0002 00000001 64 0b 0003 00000001 66 00 00";

static bool req_is_reference(const struct rpc_call *c)
{
	return c->is_price && c->has_req && c->req.has_area &&
	       c->req.area == 1 && c->req.has_trace &&
	       tw_str_eq(c->req.trace.trace_id, "s") &&
	       tw_str_eq(c->req.trace.caller, "d") &&
	       tw_str_eq(c->req.trace.span_id, "f");
}

static void test_skip_types(void)
{
	struct rpc_call call;
	struct tw_reader r;
	struct buf v, m;
	size_t i;
	int err;

	for (i = 0; i < N_SKIP; i++) {
		const struct skip_case *c = &skip_cases[i];

		buf_hex(&v, c->hex);
		tw_reader_init(&r, v.b, v.n);
		err = tw_skip(&r, c->type);
		ok(err == TW_OK && r.pos == v.n,
		   "tw_skip %s consumes exactly %zu bytes (err %d, pos %zu)",
		   c->name, v.n, err, r.pos);

		/* Same value as unknown field 99 before and inside req. */
		m.n = 0;
		put_call_header(&m, "Price", 5);
		put_bytes(&m, (uint8_t[]){ c->type, 0x00, 99 }, 3);
		put_hex(&m, c->hex);
		put_hex(&m, "0c 0001");
		put_bytes(&m, (uint8_t[]){ c->type, 0x00, 99 }, 3);
		put_hex(&m, c->hex);
		put_hex(&m, req_field_hex + strlen("0c 0001"));
		put_hex(&m, "00");
		err = rpc_decode_call(m.b, m.n, &call);
		ok(err == TW_OK && req_is_reference(&call) &&
		   call.hdr.seqid == 5,
		   "unknown %s fields are skipped around and inside req (err %d)",
		   c->name, err);
	}
}

/* Known field ids with the wrong type are skipped, not misread. */
static void test_wrong_types(void)
{
	static const struct {
		const char *name, *args_hex;
		bool has_req, has_area, has_trace, has_trace_id;
	} cases[] = {
		{ "req as i32", "08 0001 00000005 00", false, false, false, false },
		{ "Area as i64",
		  "0c 0001 0a 0001 0000000000000001 00 00",
		  true, false, false, false },
		{ "Trace as string",
		  "0c 0001 08 0001 00000001 0b 0002 00000001 73 00 00",
		  true, true, false, false },
		{ "TraceId as i32",
		  "0c 0001 0c 0002 08 0001 00000001 0b 0002 00000001 64 00 00 00",
		  true, false, true, false },
		{ "req as list<struct>",
		  "0f 0001 0c 00000001 08 0001 00000001 00 00",
		  false, false, false, false },
	};
	struct rpc_reply rep;
	struct rpc_call call;
	struct buf m;
	size_t i;
	int err;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		m.n = 0;
		put_call_header(&m, "Price", 1);
		put_hex(&m, cases[i].args_hex);
		err = rpc_decode_call(m.b, m.n, &call);
		ok(err == TW_OK && call.has_req == cases[i].has_req &&
		   call.req.has_area == cases[i].has_area &&
		   call.req.has_trace == cases[i].has_trace &&
		   call.req.trace.has_trace_id == cases[i].has_trace_id &&
		   (cases[i].has_area || call.req.area == 0),
		   "wrong type skipped: %s (err %d)", cases[i].name, err);
	}

	buf_hex(&m, "80010002 00000005 5072696365 00000001"
		    "08 0000 00000001 00");
	err = rpc_decode_reply(m.b, m.n, &rep);
	ok(err == TW_OK && rep.kind == RPC_REPLY_EXCEPTION &&
	   rep.ex.type == RPC_APPEX_MISSING_RESULT,
	   "REPLY whose success is an i32 is a missing result (err %d)", err);

	buf_hex(&m, "80010002 00000005 5072696365 00000001"
		    "0c 0000 08 0001 00000002 0a 0002 3fd999999999999a 00 00");
	err = rpc_decode_reply(m.b, m.n, &rep);
	ok(err == TW_OK && rep.kind == RPC_REPLY_OK && rep.res.err_no == 2 &&
	   !rep.res.has_passenger_discount && rep.res.passenger_discount == 0,
	   "PassengerDiscount sent as i64 is skipped (err %d)", err);

	buf_hex(&m, "80010003 00000005 5072696365 00000001"
		    "0b 0002 00000001 31 0b 0001 00000001 6d 00");
	err = rpc_decode_reply(m.b, m.n, &rep);
	ok(err == TW_OK && !rep.ex.has_type && tw_str_eq(rep.ex.message, "m"),
	   "exception type sent as string is skipped (err %d)", err);
}

static void put_nested_structs(struct buf *b, int levels)
{
	int i;

	/* The value of a struct field: levels-1 nested "field 1: struct". */
	for (i = 1; i < levels; i++)
		put_hex(b, "0c 0001");
	for (i = 0; i < levels; i++)
		put_hex(b, "00");
}

static void put_nested_lists(struct buf *b, int levels)
{
	int i;

	for (i = 1; i < levels; i++)
		put_hex(b, "0f 00000001");
	put_hex(b, "08 00000000");
}

static void test_nesting(void)
{
	static const struct {
		const char *what;
		int levels, want;
	} cases[] = {
		{ "structs", 1, TW_OK },
		{ "structs", 64, TW_OK },
		{ "structs", 65, TW_EDEPTH },
		{ "structs", 1000, TW_EDEPTH },
		{ "lists", 64, TW_OK },
		{ "lists", 65, TW_EDEPTH },
	};
	struct rpc_call call;
	struct tw_reader r;
	struct buf b;
	size_t i;
	int err;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool lists = cases[i].what[0] == 'l';

		b.n = 0;
		if (lists)
			put_nested_lists(&b, cases[i].levels);
		else
			put_nested_structs(&b, cases[i].levels);
		tw_reader_init(&r, b.b, b.n);
		err = tw_skip(&r, lists ? TW_LIST : TW_STRUCT);
		ok(err == cases[i].want, "tw_skip of %d nested %s: %s (want %s)",
		   cases[i].levels, cases[i].what, tw_strerror(err),
		   tw_strerror(cases[i].want));
	}

	/* In a message the args struct is level 1: 63 more make 64. */
	for (i = 0; i < 2; i++) {
		int total = 64 + (int)i;

		b.n = 0;
		put_call_header(&b, "Price", 1);
		put_hex(&b, "0c 0063");
		put_nested_structs(&b, total - 1);
		put_hex(&b, "00");
		err = rpc_decode_call(b.b, b.n, &call);
		ok(err == (total == 64 ? TW_OK : TW_EDEPTH),
		   "Price args + %d nested structs = %d levels: %s", total - 1,
		   total, tw_strerror(err));

		b.n = 0;
		put_call_header(&b, "Other", 1);
		put_hex(&b, "0c 0001");
		put_nested_structs(&b, total - 1);
		put_hex(&b, "00");
		err = rpc_decode_call(b.b, b.n, &call);
		ok(err == (total == 64 ? TW_OK : TW_EDEPTH) && !call.is_price,
		   "unknown method args with %d levels: %s", total,
		   tw_strerror(err));

		/* Through the known fields: args, req, Trace, then unknown. */
		b.n = 0;
		put_call_header(&b, "Price", 1);
		put_hex(&b, "0c 0001 0c 0002 0c 0009");
		put_nested_structs(&b, total - 3);
		put_hex(&b, "00 00 00");
		err = rpc_decode_call(b.b, b.n, &call);
		ok(err == (total == 64 ? TW_OK : TW_EDEPTH),
		   "args/req/Trace + %d nested = %d levels: %s", total - 3,
		   total, tw_strerror(err));
	}
}

/* Malformed input: each is rejected with a precise error. */
static void test_rejects(void)
{
	static const struct {
		const char *name, *hex;
		bool reply;	/* decode as a reply instead of a call */
		int want;
	} cases[] = {
		{ "empty payload", "", false, TW_ETRUNC },
		{ "bad version 0x8002",
		  "80020001 00000005 5072696365 00000001 00", false, TW_EBADVER },
		{ "non-strict (old) header",
		  "00000005 5072696365 01 00000001 00", false, TW_EBADVER },
		{ "version only", "80010001", false, TW_ETRUNC },
		{ "REPLY sent to a server",
		  "80010002 00000005 5072696365 00000001 00", false, TW_EMSGTYPE },
		{ "CALL sent to a client",
		  "80010001 00000005 5072696365 00000001 00", true, TW_EMSGTYPE },
		{ "message type 0",
		  "80010000 00000005 5072696365 00000001 00", false, TW_EMSGTYPE },
		{ "negative name length",
		  "80010001 ffffffff 00000001 00", false, TW_ENEGSIZE },
		{ "name longer than frame",
		  "80010001 00001000 5072696365", false, TW_ETRUNC },
		{ "field type 1",
		  "80010001 00000005 5072696365 00000001 01 0001 00", false,
		  TW_EBADTYPE },
		{ "field type 5",
		  "80010001 00000005 5072696365 00000001 05 0001 00", false,
		  TW_EBADTYPE },
		{ "field type 16",
		  "80010001 00000005 5072696365 00000001 10 0001 00", false,
		  TW_EBADTYPE },
		{ "field type 0xff",
		  "80010001 00000005 5072696365 00000001 ff 0001 00", false,
		  TW_EBADTYPE },
		{ "garbage type inside Trace",
		  "80010001 00000005 5072696365 00000001"
		  "0c 0001 0c 0002 55 0001 00 00 00", false, TW_EBADTYPE },
		{ "list of invalid element type",
		  "80010001 00000005 5072696365 00000001"
		  "0f 0009 07 00000001 00 00", false, TW_EBADTYPE },
		{ "map of invalid key type",
		  "80010001 00000005 5072696365 00000001"
		  "0d 0009 00 08 00000001 00 00", false, TW_EBADTYPE },
		{ "negative list size",
		  "80010001 00000005 5072696365 00000001"
		  "0f 0009 08 ffffffff 00", false, TW_ENEGSIZE },
		{ "negative string in Trace",
		  "80010001 00000005 5072696365 00000001"
		  "0c 0001 0c 0002 0b 0001 80000000 00 00 00", false,
		  TW_ENEGSIZE },
		{ "huge list size",
		  "80010001 00000005 5072696365 00000001"
		  "0f 0009 08 7fffffff 00000001 00", false, TW_ETRUNC },
		{ "huge map size",
		  "80010001 00000005 5072696365 00000001"
		  "0d 0009 08 08 7fffffff 00", false, TW_ETRUNC },
		{ "missing T_STOP",
		  "80010001 00000005 5072696365 00000001 08 0009 00000001",
		  false, TW_ETRUNC },
		{ "trailing byte after args",
		  "80010001 00000005 5072696365 00000001 00 00", false,
		  TW_ETRAILING },
		{ "trailing byte after reply",
		  "80010002 00000005 5072696365 00000001 0c 0000 00 00 ff", true,
		  TW_ETRAILING },
	};
	struct rpc_reply rep;
	struct rpc_call call;
	struct buf b;
	uint8_t *copy;
	size_t i;
	int err;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_hex(&b, cases[i].hex);
		copy = exact_copy(b.b, b.n);
		if (cases[i].reply)
			err = rpc_decode_reply(copy, b.n, &rep);
		else
			err = rpc_decode_call(copy, b.n, &call);
		free(copy);
		ok(err == cases[i].want, "rejects %s: %s (want %s)",
		   cases[i].name, tw_strerror(err), tw_strerror(cases[i].want));
	}
}

/* Every strict prefix of a valid message fails cleanly with TW_ETRUNC. */
static void check_truncations(const char *name, const uint8_t *msg, size_t n,
			      bool reply)
{
	struct rpc_reply rep;
	struct rpc_call call;
	size_t len, bad = 0, first_bad = 0;
	uint8_t *copy;
	int err;

	for (len = 0; len <= n; len++) {
		copy = exact_copy(msg, len);
		if (reply)
			err = rpc_decode_reply(copy, len, &rep);
		else
			err = rpc_decode_call(copy, len, &call);
		free(copy);
		if (err != (len == n ? TW_OK : TW_ETRUNC)) {
			if (!bad++)
				first_bad = len;
		}
	}
	ok(bad == 0, "%s: all %zu truncations rejected, full %zu bytes ok "
	   "(%zu wrong, first at %zu)", name, n, n, bad, first_bad);
}

static void test_truncation(void)
{
	struct buf b, all;
	size_t i;

	buf_hex(&b, call_hex);
	check_truncations("CALL", payload(&b), payload_len(&b), false);
	buf_hex(&b, reply_hex);
	check_truncations("REPLY", payload(&b), payload_len(&b), true);
	buf_hex(&b, exc_hex);
	check_truncations("EXCEPTION", payload(&b), payload_len(&b), true);
	buf_hex(&b, exc_notype_hex);
	check_truncations("EXCEPTION without type", b.b, b.n, true);

	all.n = 0;
	put_call_header(&all, "Price", 3);
	for (i = 0; i < N_SKIP; i++) {
		put_bytes(&all, (uint8_t[]){ skip_cases[i].type, 0x01,
					     (uint8_t)i }, 3);
		put_hex(&all, skip_cases[i].hex);
	}
	put_hex(&all, req_field_hex);
	put_hex(&all, "00");
	check_truncations("CALL with every skipped type", all.b, all.n, false);

	b.n = 0;
	put_call_header(&b, "Price", 1);
	put_hex(&b, "0c 0063");
	put_nested_structs(&b, 63);
	put_hex(&b, "00");
	check_truncations("CALL nested 64 deep", b.b, b.n, false);
}

/* A writer never goes past its capacity and reports TW_ENOSPC. */
static void test_writer_bounds(void)
{
	struct rpc_price_req req = {
		.area = 1, .has_area = true, .has_trace = true,
		.trace = {
			.trace_id = S("s"), .caller = S("d"), .span_id = S("f"),
			.has_trace_id = true, .has_caller = true,
			.has_span_id = true,
		},
	};
	size_t cap, bad = 0, full;
	struct tw_writer w;
	struct buf want;
	uint8_t *out;
	int err;

	buf_hex(&want, call_hex);
	full = want.n;
	for (cap = 0; cap <= full; cap++) {
		out = malloc(cap ? cap : 1);
		if (!out)
			bail("out of memory");
		tw_writer_init(&w, out, cap);
		err = rpc_encode_price_call(&w, 1, &req);
		if (cap < full ? (err != TW_ENOSPC || w.len > cap)
			       : (err || memcmp(out, want.b, full)))
			bad++;
		free(out);
	}
	ok(bad == 0, "CALL encoding into 0..%zu-byte buffers: %zu wrong", full,
	   bad);
}

static void test_frame_len(void)
{
	static const struct {
		uint32_t len, max;
		int want;
	} cases[] = {
		{ 0, TW_DEFAULT_MAX_FRAME, TW_OK },
		{ 57, TW_DEFAULT_MAX_FRAME, TW_OK },
		{ 16384000, TW_DEFAULT_MAX_FRAME, TW_OK },
		{ 16384001, TW_DEFAULT_MAX_FRAME, TW_EFRAMEBIG },
		{ 16 * 1024 * 1024, TW_DEFAULT_MAX_FRAME, TW_EFRAMEBIG },
		{ 0x7fffffff, TW_DEFAULT_MAX_FRAME, TW_EFRAMEBIG },
		{ 0x80000000, TW_DEFAULT_MAX_FRAME, TW_EFRAMENEG },
		{ 0xffffffff, TW_DEFAULT_MAX_FRAME, TW_EFRAMENEG },
		{ 0x80000000, 0xffffffff, TW_EFRAMENEG },
		{ 99, 99, TW_OK },
		{ 100, 99, TW_EFRAMEBIG },
	};
	uint8_t hdr[TW_FRAME_HDR];
	uint32_t got;
	size_t i;
	int err;

	ok(TW_DEFAULT_MAX_FRAME == 16384000,
	   "default max frame is Thrift's 16384000, not 16 MiB");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tw_frame_put_len(hdr, cases[i].len);
		err = tw_frame_check_len(hdr, cases[i].max, &got);
		ok(err == cases[i].want && got == cases[i].len,
		   "frame length 0x%08x with max %u: %s", cases[i].len,
		   cases[i].max, tw_strerror(err));
	}
	tw_frame_put_len(hdr, 0x01020304);
	ok(hdr[0] == 1 && hdr[1] == 2 && hdr[2] == 3 && hdr[3] == 4,
	   "frame length is big-endian");
}

static void test_duration(void)
{
	static const struct {
		const char *s;
		int want;
		int64_t ms;
	} cases[] = {
		{ "0", 0, 0 },
		{ "0s", 0, 0 },
		{ "100ms", 0, 100 },
		{ "2s", 0, 2000 },
		{ "1m", 0, 60000 },
		{ "1h", 0, 3600000 },
		{ "1m30s", 0, 90000 },
		{ "1h2m3s4ms", 0, 3723004 },
		{ "1.5s", 0, 1500 },
		{ ".5s", 0, 500 },
		{ "0.5ms", 0, 0 },
		{ "2562047788015h", 0, 2562047788015LL * 3600000 },
		{ "2562047788016h", -ERANGE, 0 },
		{ "99999999999999999999s", -ERANGE, 0 },
		{ "", -EINVAL, 0 },
		{ "5", -EINVAL, 0 },
		{ "00", -EINVAL, 0 },
		{ "-1s", -EINVAL, 0 },
		{ "1x", -EINVAL, 0 },
		{ "s", -EINVAL, 0 },
		{ "ms", -EINVAL, 0 },
		{ "1.2.3s", -EINVAL, 0 },
		{ "1 s", -EINVAL, 0 },
		{ "1s ", -EINVAL, 0 },
		{ "10us", -EINVAL, 0 },
	};
	int64_t ms;
	size_t i;
	int err;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ms = -1;
		err = sa_parse_duration_ms(cases[i].s, false, &ms);
		ok(err == cases[i].want && (err || ms == cases[i].ms),
		   "duration '%s' -> %d, %lld ms", cases[i].s, err,
		   (long long)ms);
	}
}

static void test_hostport(void)
{
	static const struct {
		const char *s;
		int want;
		const char *host;
		uint16_t port;
	} cases[] = {
		{ "127.0.0.1:9090", 0, "127.0.0.1", 9090 },
		{ "127.0.0.1:0", 0, "127.0.0.1", 0 },
		{ "localhost:65535", 0, "localhost", 65535 },
		{ "[::1]:80", 0, "::1", 80 },
		{ ":8080", 0, "", 8080 },
		{ "host", -EINVAL, NULL, 0 },
		{ "host:", -EINVAL, NULL, 0 },
		{ "host:65536", -EINVAL, NULL, 0 },
		{ "host:123456", -EINVAL, NULL, 0 },
		{ "host:-1", -EINVAL, NULL, 0 },
		{ "host:80x", -EINVAL, NULL, 0 },
		{ "::1:80", -EINVAL, NULL, 0 },
		{ "[::1]80", -EINVAL, NULL, 0 },
		{ "[]:80", -EINVAL, NULL, 0 },
		{ "", -EINVAL, NULL, 0 },
	};
	char host[64], longhost[300];
	uint16_t port;
	size_t i;
	int err;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err = rpc_parse_hostport(cases[i].s, host, sizeof(host), &port);
		ok(err == cases[i].want &&
		   (err || (!strcmp(host, cases[i].host) &&
			    port == cases[i].port)),
		   "endpoint '%s' -> %d", cases[i].s, err);
	}
	memset(longhost, 'a', sizeof(longhost));
	memcpy(longhost + sizeof(longhost) - 4, ":80", 4);
	err = rpc_parse_hostport(longhost, host, sizeof(host), &port);
	ok(err == -ENAMETOOLONG, "host longer than the buffer -> %d", err);
}

int main(void)
{
	test_encode_exact();
	test_decode_known();
	test_roundtrip_req();
	test_roundtrip_res();
	test_skip_types();
	test_wrong_types();
	test_nesting();
	test_rejects();
	test_truncation();
	test_writer_bounds();
	test_frame_len();
	test_duration();
	test_hostport();
	return tap_done();
}
