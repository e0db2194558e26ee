/* PriceService (repro/price.thrift) messages on top of wire.h.
 *
 * Decoded strings are views into the frame buffer.  Fields absent on the
 * wire keep their zero value and a clear has_* flag, as in Thrift.
 */
#pragma once

#include "wire.h"

#define RPC_PRICE_METHOD	"Price"

/* TApplicationException.type values used here (Thrift's numbering). */
#define RPC_APPEX_UNKNOWN_METHOD	1

struct rpc_trace {
	struct tw_str trace_id;		/* 1: string TraceId */
	struct tw_str caller;		/* 2: string Caller */
	struct tw_str span_id;		/* 3: string SpanId */
	bool has_trace_id, has_caller, has_span_id;
};

struct rpc_price_req {
	int32_t area;			/* 1: i32 Area */
	struct rpc_trace trace;		/* 2: Trace Trace */
	bool has_area, has_trace;
};

struct rpc_price_res {
	int32_t err_no;			/* 1: i32 ErrNo */
	double passenger_discount;	/* 2: double PassengerDiscount */
	bool has_err_no, has_passenger_discount;
};

struct rpc_app_exception {
	struct tw_str message;		/* 1: string message */
	int32_t type;			/* 2: i32 type */
	bool has_message, has_type;
};

/* Struct bodies (field list + T_STOP). */
void rpc_write_price_req(struct tw_writer *w, const struct rpc_price_req *req);
void rpc_write_price_res(struct tw_writer *w, const struct rpc_price_res *res);
void rpc_write_app_exception(struct tw_writer *w,
			     const struct rpc_app_exception *ex);

/*
 * Message bodies, read right after tw_read_msg_begin(): the args/result
 * struct counts as nesting level 1 of TW_MAX_DEPTH.
 */
int rpc_read_price_args(struct tw_reader *r, struct rpc_price_req *req,
			bool *has_req);
int rpc_read_price_result(struct tw_reader *r, struct rpc_price_res *res,
			  bool *has_success);
int rpc_read_app_exception(struct tw_reader *r, struct rpc_app_exception *ex);

/* Whole frames (length prefix included), ready for the socket. */
int rpc_encode_price_call(struct tw_writer *w, int32_t seqid,
			  const struct rpc_price_req *req);
int rpc_encode_price_reply(struct tw_writer *w, int32_t seqid,
			   const struct rpc_price_res *res);
int rpc_encode_exception(struct tw_writer *w, struct tw_str name,
			 int32_t seqid, const struct rpc_app_exception *ex);

/* Decoded server reply to a Price call. */
enum rpc_reply_kind {
	RPC_REPLY_OK,		/* res holds the PriceRes */
	RPC_REPLY_EXCEPTION,	/* ex holds the TApplicationException */
};

struct rpc_reply {
	enum rpc_reply_kind kind;
	struct tw_msg_header hdr;
	struct rpc_price_res res;
	struct rpc_app_exception ex;
};

#define RPC_APPEX_MISSING_RESULT	5

/*
 * Decode a whole frame payload (without length prefix) sent in answer to a
 * Price call: REPLY or EXCEPTION only.  A REPLY without field 0 comes back
 * as RPC_REPLY_EXCEPTION of type MISSING_RESULT, as Thrift clients see it.
 */
int rpc_decode_reply(const void *payload, size_t len, struct rpc_reply *out);

/* Decoded request as the server sees it. */
struct rpc_call {
	struct tw_msg_header hdr;
	bool is_price;		/* name is "Price"; else args were skipped */
	bool has_req;
	struct rpc_price_req req;
};

/* Decode a whole request frame payload: CALL or ONEWAY only. */
int rpc_decode_call(const void *payload, size_t len, struct rpc_call *out);
