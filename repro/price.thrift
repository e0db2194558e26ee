// PriceService: the framed/binary Thrift service that sockaudit-rpc speaks.
// The wire format as implemented is described in docs/repro-protocol.md.

struct Trace {
	1: string TraceId,
	2: string Caller,
	3: string SpanId,
}

struct PriceReq {
	1: i32 Area,
	2: Trace Trace,
}

struct PriceRes {
	1: i32 ErrNo,
	2: double PassengerDiscount,
}

service PriceService {
	PriceRes Price(1: PriceReq req),
}
