/* Registered instead of the recorder's tests when this build has no
 * recorder (-Debpf=disabled, or libbpf, bpftool, clang or the kernel's BTF
 * missing at configure time): skips with that reason, and fails under
 * CI=true, where the recorder must be built and tested. */
#include <stdlib.h>
#include <string.h>

#include "../tap.h"

int main(void)
{
	const char *ci = getenv("CI");

	if (ci && strcmp(ci, "true") == 0) {
		ok(false, "CI=true: sockaudit was built without the eBPF recorder "
		   "(install libbpf-dev, bpftool, clang; a kernel with BTF)");
		return tap_done();
	}
	printf("1..0 # SKIP built without the eBPF recorder (-Debpf, libbpf-dev, bpftool, "
	       "/sys/kernel/btf/vmlinux)\n");
	return 0;
}
