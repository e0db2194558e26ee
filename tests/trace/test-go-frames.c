/* Which Go frames the report trims: the packages between a program's own
 * code and a socket system call (leading), and the goroutine's start
 * (outermost). From tables of cases; what a real Go stack looks like
 * after trimming is checked end to end in test-trace.c (`go`). */
#include "report/symbols.h"

#include "../tap.h"

int main(void)
{
	static const struct {
		const char *fn;
		bool std;
	} cases[] = {
		{ "runtime/internal/syscall.Syscall6", true },
		{ "syscall.Syscall6", true },
		{ "syscall.Connect", true },
		{ "internal/poll.(*FD).Accept", true },
		{ "net.(*netFD).connect", true },
		{ "net.Dial", true },
		{ "net.(*Dialer).DialContext.func1", true },
		{ "os.(*File).Close", true },
		{ "runtime.runfinq", true },
		{ "golang.org/x/sys/unix.Socket", true },
		{ "main.dialHold", false },
		{ "main.main.func1", false },
		{ "net/http.(*Transport).dialConn", false },
		{ "crypto/tls.DialWithDialer", false },
		{ "github.com/apache/thrift/lib/go/thrift.(*TSocket).Open", false },
		{ "netutil.Dial", false },
		{ "myapp/net.Dial", false },
		{ "osext.Executable", false },
		{ "runtimeconfig.Load", false },
		{ "socket", false },
		{ ".hidden", false },
		{ "", false },
		{ NULL, false },
	};
	struct sym_frame f[5] = {
		{ .function = "net.Dial" },
		{ .function = "main.dialHold" },
		{ .function = "main.main" },
		{ .function = "runtime.main" },
		{ .function = "runtime.goexit" },
	};
	struct sym_frame all_std[2] = {
		{ .function = "runtime.goexit" },
		{ .function = "runtime.main" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ok(report_go_syscall_frame(cases[i].fn) == cases[i].std, "%s: %s",
		   cases[i].fn ? cases[i].fn : "(null)", cases[i].std ? "trimmed" : "kept");
	ok(report_trim_count(f, 5) == 1, "leading net.Dial trimmed, main.dialHold first");
	ok(report_go_below_count(f, 5) == 2, "runtime.main and runtime.goexit below main.main");
	ok(report_go_below_count(f, 3) == 0, "nothing below when the stack ends in user code");
	ok(report_go_below_count(all_std, 2) == 0, "a stack of only the start is kept whole");
	return tap_done();
}
