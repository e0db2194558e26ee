/* PriceService structs and messages: what Thrift's generated code does. */
#include "price.h"

#include <string.h>

void rpc_write_price_req(struct tw_writer *w, const struct rpc_price_req *req)
{
	const struct rpc_trace *t = &req->trace;

	if (req->has_area) {
		tw_write_field_begin(w, TW_I32, 1);
		tw_write_i32(w, req->area);
	}
	if (req->has_trace) {
		tw_write_field_begin(w, TW_STRUCT, 2);
		if (t->has_trace_id) {
			tw_write_field_begin(w, TW_STRING, 1);
			tw_write_string(w, t->trace_id.ptr, t->trace_id.len);
		}
		if (t->has_caller) {
			tw_write_field_begin(w, TW_STRING, 2);
			tw_write_string(w, t->caller.ptr, t->caller.len);
		}
		if (t->has_span_id) {
			tw_write_field_begin(w, TW_STRING, 3);
			tw_write_string(w, t->span_id.ptr, t->span_id.len);
		}
		tw_write_field_stop(w);
	}
	tw_write_field_stop(w);
}

void rpc_write_price_res(struct tw_writer *w, const struct rpc_price_res *res)
{
	if (res->has_err_no) {
		tw_write_field_begin(w, TW_I32, 1);
		tw_write_i32(w, res->err_no);
	}
	if (res->has_passenger_discount) {
		tw_write_field_begin(w, TW_DOUBLE, 2);
		tw_write_double(w, res->passenger_discount);
	}
	tw_write_field_stop(w);
}

void rpc_write_app_exception(struct tw_writer *w,
			     const struct rpc_app_exception *ex)
{
	if (ex->has_message) {
		tw_write_field_begin(w, TW_STRING, 1);
		tw_write_string(w, ex->message.ptr, ex->message.len);
	}
	if (ex->has_type) {
		tw_write_field_begin(w, TW_I32, 2);
		tw_write_i32(w, ex->type);
	}
	tw_write_field_stop(w);
}

/*
 * Each reader gets the nesting allowance left for the struct it reads
 * (itself included) and passes one less to what it contains, so the depth
 * limit holds across known and skipped fields alike.
 */
static int rpc_read_trace(struct tw_reader *r, struct rpc_trace *t, int depth)
{
	uint8_t ft;
	int16_t id;
	int err;

	memset(t, 0, sizeof(*t));
	if (depth < 1)
		return TW_EDEPTH;
	for (;;) {
		if ((err = tw_read_field_begin(r, &ft, &id)))
			return err;
		if (ft == TW_STOP)
			return TW_OK;
		if (id == 1 && ft == TW_STRING) {
			err = tw_read_string(r, &t->trace_id);
			t->has_trace_id = true;
		} else if (id == 2 && ft == TW_STRING) {
			err = tw_read_string(r, &t->caller);
			t->has_caller = true;
		} else if (id == 3 && ft == TW_STRING) {
			err = tw_read_string(r, &t->span_id);
			t->has_span_id = true;
		} else {
			err = tw_skip_depth(r, ft, depth - 1);
		}
		if (err)
			return err;
	}
}

static int rpc_read_price_req(struct tw_reader *r, struct rpc_price_req *req,
			      int depth)
{
	uint8_t ft;
	int16_t id;
	int err;

	memset(req, 0, sizeof(*req));
	if (depth < 1)
		return TW_EDEPTH;
	for (;;) {
		if ((err = tw_read_field_begin(r, &ft, &id)))
			return err;
		if (ft == TW_STOP)
			return TW_OK;
		if (id == 1 && ft == TW_I32) {
			err = tw_read_i32(r, &req->area);
			req->has_area = true;
		} else if (id == 2 && ft == TW_STRUCT) {
			err = rpc_read_trace(r, &req->trace, depth - 1);
			req->has_trace = true;
		} else {
			err = tw_skip_depth(r, ft, depth - 1);
		}
		if (err)
			return err;
	}
}

static int rpc_read_price_res(struct tw_reader *r, struct rpc_price_res *res,
			      int depth)
{
	uint8_t ft;
	int16_t id;
	int err;

	memset(res, 0, sizeof(*res));
	if (depth < 1)
		return TW_EDEPTH;
	for (;;) {
		if ((err = tw_read_field_begin(r, &ft, &id)))
			return err;
		if (ft == TW_STOP)
			return TW_OK;
		if (id == 1 && ft == TW_I32) {
			err = tw_read_i32(r, &res->err_no);
			res->has_err_no = true;
		} else if (id == 2 && ft == TW_DOUBLE) {
			err = tw_read_double(r, &res->passenger_discount);
			res->has_passenger_discount = true;
		} else {
			err = tw_skip_depth(r, ft, depth - 1);
		}
		if (err)
			return err;
	}
}

int rpc_read_price_args(struct tw_reader *r, struct rpc_price_req *req,
			bool *has_req)
{
	const int depth = TW_MAX_DEPTH;
	uint8_t ft;
	int16_t id;
	int err;

	memset(req, 0, sizeof(*req));
	*has_req = false;
	for (;;) {
		if ((err = tw_read_field_begin(r, &ft, &id)))
			return err;
		if (ft == TW_STOP)
			return TW_OK;
		if (id == 1 && ft == TW_STRUCT) {
			err = rpc_read_price_req(r, req, depth - 1);
			*has_req = true;
		} else {
			err = tw_skip_depth(r, ft, depth - 1);
		}
		if (err)
			return err;
	}
}

int rpc_read_price_result(struct tw_reader *r, struct rpc_price_res *res,
			  bool *has_success)
{
	const int depth = TW_MAX_DEPTH;
	uint8_t ft;
	int16_t id;
	int err;

	memset(res, 0, sizeof(*res));
	*has_success = false;
	for (;;) {
		if ((err = tw_read_field_begin(r, &ft, &id)))
			return err;
		if (ft == TW_STOP)
			return TW_OK;
		if (id == 0 && ft == TW_STRUCT) {
			err = rpc_read_price_res(r, res, depth - 1);
			*has_success = true;
		} else {
			err = tw_skip_depth(r, ft, depth - 1);
		}
		if (err)
			return err;
	}
}

int rpc_read_app_exception(struct tw_reader *r, struct rpc_app_exception *ex)
{
	const int depth = TW_MAX_DEPTH;
	uint8_t ft;
	int16_t id;
	int err;

	memset(ex, 0, sizeof(*ex));
	for (;;) {
		if ((err = tw_read_field_begin(r, &ft, &id)))
			return err;
		if (ft == TW_STOP)
			return TW_OK;
		if (id == 1 && ft == TW_STRING) {
			err = tw_read_string(r, &ex->message);
			ex->has_message = true;
		} else if (id == 2 && ft == TW_I32) {
			err = tw_read_i32(r, &ex->type);
			ex->has_type = true;
		} else {
			err = tw_skip_depth(r, ft, depth - 1);
		}
		if (err)
			return err;
	}
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
