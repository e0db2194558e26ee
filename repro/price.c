/* PriceService structs and messages: what Thrift's generated code does. */
#include "price.h"

#include <stddef.h>
#include <string.h>

/*
 * Each struct's fields, as Thrift's generated code lists them: id, wire
 * type, where the value and its has_ flag sit in the C struct, and for a
 * struct field that struct's own list. One reader and one writer walk them.
 */
struct rpc_field {
	int16_t id;
	uint8_t type;			/* TW_I32, TW_DOUBLE, TW_STRING, TW_STRUCT */
	size_t off, has;
	const struct rpc_struct *sub;	/* TW_STRUCT */
};

struct rpc_struct {
	size_t size, n;
	const struct rpc_field *f;
};

#define FIELD(type_, id_, wire, member, sub_) \
	{ (id_), (wire), offsetof(type_, member), offsetof(type_, has_##member), (sub_) }
#define STRUCT(type_, fields) { sizeof(type_), sizeof(fields) / sizeof((fields)[0]), (fields) }

static const struct rpc_field trace_fields[] = {
	FIELD(struct rpc_trace, 1, TW_STRING, trace_id, NULL),
	FIELD(struct rpc_trace, 2, TW_STRING, caller, NULL),
	FIELD(struct rpc_trace, 3, TW_STRING, span_id, NULL),
};
static const struct rpc_struct trace_struct = STRUCT(struct rpc_trace, trace_fields);

static const struct rpc_field req_fields[] = {
	FIELD(struct rpc_price_req, 1, TW_I32, area, NULL),
	FIELD(struct rpc_price_req, 2, TW_STRUCT, trace, &trace_struct),
};
static const struct rpc_struct req_struct = STRUCT(struct rpc_price_req, req_fields);

static const struct rpc_field res_fields[] = {
	FIELD(struct rpc_price_res, 1, TW_I32, err_no, NULL),
	FIELD(struct rpc_price_res, 2, TW_DOUBLE, passenger_discount, NULL),
};
static const struct rpc_struct res_struct = STRUCT(struct rpc_price_res, res_fields);

static const struct rpc_field appex_fields[] = {
	FIELD(struct rpc_app_exception, 1, TW_STRING, message, NULL),
	FIELD(struct rpc_app_exception, 2, TW_I32, type, NULL),
};
static const struct rpc_struct appex_struct = STRUCT(struct rpc_app_exception, appex_fields);

/* The method's args and result structs: one field each. */
struct price_args {
	struct rpc_price_req req;
	bool has_req;
};
static const struct rpc_field args_fields[] = {
	FIELD(struct price_args, 1, TW_STRUCT, req, &req_struct),
};
static const struct rpc_struct args_struct = STRUCT(struct price_args, args_fields);

struct price_result {
	struct rpc_price_res success;
	bool has_success;
};
static const struct rpc_field result_fields[] = {
	FIELD(struct price_result, 0, TW_STRUCT, success, &res_struct),
};
static const struct rpc_struct result_struct = STRUCT(struct price_result, result_fields);

static void write_struct(struct tw_writer *w, const void *obj, const struct rpc_struct *s)
{
	const char *p = obj;

	for (size_t i = 0; i < s->n; i++) {
		const struct rpc_field *f = &s->f[i];
		const void *v = p + f->off;

		if (!*(const bool *)(p + f->has))
			continue;
		tw_write_field_begin(w, f->type, f->id);
		switch (f->type) {
		case TW_I32:
			tw_write_i32(w, *(const int32_t *)v);
			break;
		case TW_DOUBLE:
			tw_write_double(w, *(const double *)v);
			break;
		case TW_STRING:
			tw_write_string(w, ((const struct tw_str *)v)->ptr,
					((const struct tw_str *)v)->len);
			break;
		case TW_STRUCT:
			write_struct(w, v, f->sub);
			break;
		}
	}
	tw_write_field_stop(w);
}

/*
 * A reader gets the nesting allowance left for the struct it reads (itself
 * included) and passes one less to what it contains, so the depth limit
 * holds across known and skipped fields alike. A field of an unknown id, or
 * of a known id with another wire type, is skipped.
 */
static int read_struct(struct tw_reader *r, void *obj, const struct rpc_struct *s, int depth)
{
	char *p = obj;
	uint8_t ft;
	int16_t id;
	int err;

	memset(obj, 0, s->size);
	if (depth < 1)
		return TW_EDEPTH;
	for (;;) {
		const struct rpc_field *f = NULL;
		void *v;

		if ((err = tw_read_field_begin(r, &ft, &id)))
			return err;
		if (ft == TW_STOP)
			return TW_OK;
		for (size_t i = 0; i < s->n && !f; i++)
			if (s->f[i].id == id && s->f[i].type == ft)
				f = &s->f[i];
		if (!f) {
			if ((err = tw_skip_depth(r, ft, depth - 1)))
				return err;
			continue;
		}
		v = p + f->off;
		switch (f->type) {
		case TW_I32:
			err = tw_read_i32(r, v);
			break;
		case TW_DOUBLE:
			err = tw_read_double(r, v);
			break;
		case TW_STRING:
			err = tw_read_string(r, v);
			break;
		default:
			err = read_struct(r, v, f->sub, depth - 1);
			break;
		}
		*(bool *)(p + f->has) = true;
		if (err)
			return err;
	}
}

void rpc_write_price_req(struct tw_writer *w, const struct rpc_price_req *req)
{
	write_struct(w, req, &req_struct);
}

void rpc_write_price_res(struct tw_writer *w, const struct rpc_price_res *res)
{
	write_struct(w, res, &res_struct);
}

void rpc_write_app_exception(struct tw_writer *w,
			     const struct rpc_app_exception *ex)
{
	write_struct(w, ex, &appex_struct);
}

int rpc_read_price_args(struct tw_reader *r, struct rpc_price_req *req,
			bool *has_req)
{
	struct price_args a;
	int err = read_struct(r, &a, &args_struct, TW_MAX_DEPTH);

	*req = a.req;
	*has_req = a.has_req;
	return err;
}

int rpc_read_price_result(struct tw_reader *r, struct rpc_price_res *res,
			  bool *has_success)
{
	struct price_result a;
	int err = read_struct(r, &a, &result_struct, TW_MAX_DEPTH);

	*res = a.success;
	*has_success = a.has_success;
	return err;
}

int rpc_read_app_exception(struct tw_reader *r, struct rpc_app_exception *ex)
{
	return read_struct(r, ex, &appex_struct, TW_MAX_DEPTH);
}

int rpc_encode_price_call(struct tw_writer *w, int32_t seqid,
			  const struct rpc_price_req *req)
{
	size_t mark;

	tw_frame_begin(w, &mark);
	tw_write_msg_begin(w, TW_CALL, RPC_PRICE_METHOD,
			   strlen(RPC_PRICE_METHOD), seqid);
	tw_write_field_begin(w, TW_STRUCT, 1);
	rpc_write_price_req(w, req);
	tw_write_field_stop(w);
	return tw_frame_end(w, mark);
}

int rpc_encode_price_reply(struct tw_writer *w, int32_t seqid,
			   const struct rpc_price_res *res)
{
	size_t mark;

	tw_frame_begin(w, &mark);
	tw_write_msg_begin(w, TW_REPLY, RPC_PRICE_METHOD,
			   strlen(RPC_PRICE_METHOD), seqid);
	tw_write_field_begin(w, TW_STRUCT, 0);
	rpc_write_price_res(w, res);
	tw_write_field_stop(w);
	return tw_frame_end(w, mark);
}

int rpc_encode_exception(struct tw_writer *w, struct tw_str name,
			 int32_t seqid, const struct rpc_app_exception *ex)
{
	size_t mark;

	tw_frame_begin(w, &mark);
	tw_write_msg_begin(w, TW_EXCEPTION, name.ptr, name.len, seqid);
	rpc_write_app_exception(w, ex);
	return tw_frame_end(w, mark);
}

int rpc_decode_reply(const void *payload, size_t len, struct rpc_reply *out)
{
	static const char missing[] = "Price failed: unknown result";
	struct tw_reader r;
	bool has_success;
	int err;

	memset(out, 0, sizeof(*out));
	tw_reader_init(&r, payload, len);
	if ((err = tw_read_msg_begin(&r, &out->hdr)))
		return err;
	switch (out->hdr.type) {
	case TW_REPLY:
		err = rpc_read_price_result(&r, &out->res, &has_success);
		if (err)
			return err;
		if (has_success) {
			out->kind = RPC_REPLY_OK;
		} else {
			out->kind = RPC_REPLY_EXCEPTION;
			out->ex.message.ptr = missing;
			out->ex.message.len = sizeof(missing) - 1;
			out->ex.type = RPC_APPEX_MISSING_RESULT;
			out->ex.has_message = out->ex.has_type = true;
		}
		break;
	case TW_EXCEPTION:
		out->kind = RPC_REPLY_EXCEPTION;
		if ((err = rpc_read_app_exception(&r, &out->ex)))
			return err;
		break;
	default:
		return TW_EMSGTYPE;
	}
	return tw_reader_left(&r) ? TW_ETRAILING : TW_OK;
}

int rpc_decode_call(const void *payload, size_t len, struct rpc_call *out)
{
	struct tw_reader r;
	int err;

	memset(out, 0, sizeof(*out));
	tw_reader_init(&r, payload, len);
	if ((err = tw_read_msg_begin(&r, &out->hdr)))
		return err;
	if (out->hdr.type != TW_CALL && out->hdr.type != TW_ONEWAY)
		return TW_EMSGTYPE;
	out->is_price = tw_str_eq(out->hdr.name, RPC_PRICE_METHOD);
	if (out->is_price)
		err = rpc_read_price_args(&r, &out->req, &out->has_req);
	else
		err = tw_skip(&r, TW_STRUCT);
	if (err)
		return err;
	return tw_reader_left(&r) ? TW_ETRAILING : TW_OK;
}
