// C++ exceptions under the shim: throwing across frames works, and the
// shim did not change which unwinder libstdc++ uses (libunwind's strong
// _Unwind_* symbols would take over if the shim linked it).
#include <cstdio>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

__attribute__((noinline)) static void deep(int n)
{
	if (n == 0) {
		int s = socket(AF_INET, SOCK_STREAM, 0);  // a capture mid-stack
		close(s);
		throw std::runtime_error("from the bottom");
	}
	deep(n - 1);
}

int main()
{
	int caught = 0;

	for (int i = 0; i < 100; i++) {
		try {
			deep(20);
		} catch (const std::runtime_error &e) {
			caught++;
		}
	}
	std::printf("caught %d\n", caught);
	return caught == 100 ? 0 : 1;
}
