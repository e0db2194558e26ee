/* netns: reaching a target's network namespace. We enter it only to create
 * the netlink socket, which stays bound to that namespace after we return
 * to ours; and one view per namespace for commands that look at many
 * processes (ks_views).
 */
#include "kernel/kstate.h"
#include "kernel/kstate-private.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int ks_socket_open(struct mnl_socket **out)
{
	struct mnl_socket *nl;
	int ret;

	nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		mnl_socket_close(nl);
		return ret;
	}
	*out = nl;
	return 0;
}

bool ks_pid_exists(pid_t pid)
{
	char path[32];

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	return access(path, F_OK) == 0 || errno != ENOENT;
}

int ks_open_for(struct ks_table *t, pid_t pid, struct mnl_socket **out)
{
	struct stat ours, theirs;
	int self_fd = -1, target_fd = -1, ret, err;
	char path[48];

	*out = NULL;
	if (pid > 0) {
		snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
		target_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (target_fd < 0) {
			err = errno;
			if (!ks_pid_exists(pid)) {
				ks_note(t, "process %d does not exist", (int)pid);
				return -ENOENT;
			}
			/* Another user's process: its netns is hidden from us,
			 * its /proc/<pid>/net is not. */
			ks_note(t, "cannot open %s (%s): sockets from /proc/%d/net, idle times unknown "
				"(run as root for full detail)", path, strerror(err), (int)pid);
			return 0;
		}
		/* thread-self: setns() moves this thread only, so ours is
		 * the calling thread's namespace, not the main thread's. */
		self_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (self_fd < 0 || fstat(self_fd, &ours) < 0 || fstat(target_fd, &theirs) < 0) {
			ks_note(t, "cannot compare network namespaces (%s): sockets from /proc/%d/net, "
				"idle times unknown", strerror(errno), (int)pid);
			ret = 0;
			goto out_close;
		}
		if (ours.st_dev != theirs.st_dev || ours.st_ino != theirs.st_ino)
			t->other_netns = true;
	}

	if (!t->other_netns) {
		ret = ks_socket_open(out);
		if (ret < 0) {
			ks_note(t, "sock_diag is unavailable (%s): sockets from /proc, idle times unknown",
				strerror(-ret));
			ret = 0;
		}
		goto out_close;
	}

	if (setns(target_fd, CLONE_NEWNET) < 0) {
		err = errno;
		if (err == EPERM)
			ks_note(t, "target is in another network namespace that sockaudit may not enter: "
				"idle times unknown (run as root for full detail)");
		else
			ks_note(t, "cannot enter the target's network namespace (%s): idle times unknown",
				strerror(err));
		ret = 0;
		goto out_close;
	}
	ret = ks_socket_open(out);
	if (setns(self_fd, CLONE_NEWNET) < 0) {
		/* Every later connection and dump of this thread would silently
		 * use the target's network: there is no sane way to go on. */
		fprintf(stderr, "sockaudit: cannot return to our own network namespace: %s\n",
			strerror(errno));
		abort();
	}
	if (ret < 0) {
		ks_note(t, "sock_diag is unavailable in the target's network namespace (%s): "
			"idle times unknown", strerror(-ret));
		ret = 0;
	}
out_close:
	if (self_fd >= 0)
		close(self_fd);
	if (target_fd >= 0)
		close(target_fd);
	return ret;
}

const struct ks_table *ks_views_get(struct ks_views *vs, pid_t pid)
{
	char path[64];
	struct stat st;
	struct ks_view *v;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	if (stat(path, &st) < 0)
		return NULL;
	for (size_t i = 0; i < vs->n; i++)
		if (vs->v[i].dev == st.st_dev && vs->v[i].ino == st.st_ino)
			return vs->v[i].ok ? &vs->v[i].ks : NULL;
	v = realloc(vs->v, (vs->n + 1) * sizeof(vs->v[0]));
	if (!v)
		return NULL;
	vs->v = v;
	v = &vs->v[vs->n++];
	memset(v, 0, sizeof(*v));
	v->dev = st.st_dev;
	v->ino = st.st_ino;
	/* Polls look sockets up by inode: TIME_WAIT and requests are of no use. */
	v->ok = ks_collect_held(&v->ks, pid) == 0;
	return v->ok ? &v->ks : NULL;
}

void ks_views_finish(struct ks_views *vs)
{
	for (size_t i = 0; i < vs->n; i++)
		ks_finish(&vs->v[i].ks);
	free(vs->v);
	vs->v = NULL;
	vs->n = 0;
}
