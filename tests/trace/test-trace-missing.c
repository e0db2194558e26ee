/* Registered instead of the recorder's tests when this build has no
 * recorder (-Debpf=disabled, or libbpf, bpftool, clang or the kernel's BTF
 * missing at configure time): skips with that reason, and fails under
 * CI=true or SOCKAUDIT_STRICT=1, where the recorder must be built and
 * tested. */
#include <stdlib.h>
#include <string.h>

#include "../tap.h"

int main(void)
{
	const char *ci = getenv("CI");

	if (ci && strcmp(ci, "true") == 0)
		ok(false, "CI=true: sockaudit was built without the eBPF recorder "
		   "(install libbpf-dev, bpftool, clang; a kernel with BTF)");
	else
		tap_skip_env("built without the eBPF recorder (-Debpf, libbpf-dev, bpftool, "
			     "/sys/kernel/btf/vmlinux)");
	return tap_done();
}
