/* label: what an untracked socket probably is, from its peer (DESIGN §2:
 * glibc's own sockets never reach the shim). Pure. */
#pragma once

#include "kernel/kstate.h"

enum report_label {
	REPORT_LABEL_NONE = 0,     /* tracked: no label */
	REPORT_LABEL_DEVLOG,       /* syslog(3): unix peer /dev/log */
	REPORT_LABEL_NSCD,         /* nscd: /var/run/nscd/socket, /run/nscd/socket */
	REPORT_LABEL_DNS,          /* peer port 53 */
	REPORT_LABEL_NETLINK,      /* the kernel view has no such inode: netlink, packet, ... */
	REPORT_LABEL_UNKNOWN,
	REPORT_LABEL_MAX,
};

enum report_label report_label_of(const struct ks_sock *ks);
/* "/dev/log", "nscd", "DNS", "netlink/other", "unknown" ("" for NONE) */
const char *report_label_name(enum report_label l);
/* The same, as a JSON key: "devlog", "nscd", "dns", "netlink", "unknown". */
const char *report_label_key(enum report_label l);
