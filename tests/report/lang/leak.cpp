// Leaks one connection from each of two C++ functions whose linkage names
// are mangled (a member function and a function template in a namespace),
// prints "ready" and waits for EOF on stdin (with an argument, exits at once). The lines marked LEAK-A and
// LEAK-B are the calls the report must name.
#include <arpa/inet.h>
#include <cstdio>
#include <cstdlib>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace feed {

static int dial(const sockaddr_in &a)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, reinterpret_cast<const sockaddr *>(&a), sizeof(a)) != 0)
		std::exit(3);
	return fd;
}

class Client {
public:
	explicit Client(const sockaddr_in &a) : addr(a) {}
	__attribute__((noinline)) int open(int n)
	{
		return dial(addr) + n * 0;   // LEAK-A
	}

private:
	sockaddr_in addr;
};

template <typename T>
__attribute__((noinline)) int reconnect(const sockaddr_in &a, T tries)
{
	return dial(a) + static_cast<int>(tries) * 0;   // LEAK-B
}

}   // namespace feed

int main(int argc, char **)
{
	sockaddr_in a = {};
	socklen_t len = sizeof(a);
	int srv = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (srv < 0 || bind(srv, reinterpret_cast<sockaddr *>(&a), sizeof(a)) != 0 ||
	    listen(srv, 8) != 0 || getsockname(srv, reinterpret_cast<sockaddr *>(&a), &len) != 0)
		return 2;
	feed::Client c(a);
	int x = c.open(1);
	int y = feed::reconnect<long>(a, 2L);
	std::printf("ready %d %d\n", x, y);
	std::fflush(stdout);
	if (argc > 1)   // "exit": leave with the leaks held, for `run`'s at-exit finding
		return 0;
	while (std::getchar() != EOF)
		;
	return 0;
}
