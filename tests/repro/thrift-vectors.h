/* Known-answer frames of the repro protocol, shared by the wire, client
 * and server tests and by fuzz/mkseeds.c (the fuzzers' seeds). Hex, with
 * spaces and comments between the fields; each file gets its own copy. */
#pragma once

/*
 * The three frames below are what python3-thrift 0.17 writes with
 * TFramedTransport + TBinaryProtocol(strictRead=True, strictWrite=True)
 * for the generated PriceService code of repro/price.thrift.
 * tests/repro/interop.py reads this file and checks each frame byte for
 * byte against what python3-thrift writes for the same message (and the
 * live exchange besides): keep the `static const char NAME[] = "hex";`
 * form it parses.
 */
/* Price(req={Area:1, Trace:{s, d, f}}), CALL, seqid 1. */
__attribute__((unused)) static const char call_hex[] =
	"00000039"			/* frame length 57 */
	"80010001"			/* strict version 1 | CALL */
	"00000005 5072696365"		/* "Price" */
	"00000001"			/* seqid */
	"0c 0001"			/* Price_args.req: struct, id 1 */
	  "08 0001 00000001"		/*   Area = 1 */
	  "0c 0002"			/*   Trace: struct, id 2 */
	    "0b 0001 00000001 73"	/*     TraceId = "s" */
	    "0b 0002 00000001 64"	/*     Caller = "d" */
	    "0b 0003 00000001 66"	/*     SpanId = "f" */
	    "00"			/*   end Trace */
	  "00"				/* end PriceReq */
	"00";				/* end Price_args */

/* Price_result{success={ErrNo:0, PassengerDiscount:0.4}}, REPLY, seqid 1. */
__attribute__((unused)) static const char reply_hex[] =
	"00000028"			/* frame length 40 */
	"80010002"			/* strict version 1 | REPLY */
	"00000005 5072696365"		/* "Price" */
	"00000001"			/* seqid */
	"0c 0000"			/* success: struct, id 0 */
	  "08 0001 00000000"		/*   ErrNo = 0 */
	  "04 0002 3fd999999999999a"	/*   PassengerDiscount = 0.4 */
	  "00"
	"00";

/* TApplicationException(UNKNOWN_METHOD, "Unknown function Nope"), seqid 7. */
__attribute__((unused)) static const char exc_hex[] =
	"00000034"
	"80010003"			/* strict version 1 | EXCEPTION */
	"00000004 4e6f7065"		/* "Nope" */
	"00000007"
	"0b 0001 00000015 556e6b6e6f776e2066756e6374696f6e204e6f7065"
	"08 0002 00000001"		/* type = UNKNOWN_METHOD */
	"00";
