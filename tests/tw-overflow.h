/* TcpExt TCPTimeWaitOverflow of /proc/net/netstat: time-wait entries the
 * kernel could not create because net.ipv4.tcp_max_tw_buckets was reached.
 * Then an orphaned FIN_WAIT2 or a TIME_WAIT is freed at once instead, which
 * tests that wait for one must tell from a failure. 0 when unreadable. */
#pragma once

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((unused)) static uint64_t tcpext_tw_overflows(void)
{
	FILE *f = fopen("/proc/net/netstat", "re");
	char *names = NULL, *values = NULL, *sn = NULL, *sv = NULL, *n, *v;
	size_t nl = 0, vl = 0;
	uint64_t count = 0;

	if (!f)
		return 0;
	/* "TcpExt: name name ..." then "TcpExt: value value ..." */
	while (getline(&names, &nl, f) > 0 && strncmp(names, "TcpExt:", 7) != 0)
		;
	if (names && strncmp(names, "TcpExt:", 7) == 0 && getline(&values, &vl, f) > 0 &&
	    strncmp(values, "TcpExt:", 7) == 0)
		for (n = strtok_r(names + 7, " \n", &sn), v = strtok_r(values + 7, " \n", &sv);
		     n && v; n = strtok_r(NULL, " \n", &sn), v = strtok_r(NULL, " \n", &sv))
			if (strcmp(n, "TCPTimeWaitOverflow") == 0) {
				count = strtoull(v, NULL, 10);
				break;
			}
	free(names);
	free(values);
	fclose(f);
	return count;
}
