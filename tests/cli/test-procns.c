/* procns: the NSpid and uid_map parsers and the container id from cgroup
 * paths, from tables of real-looking input; and opening a file inside
 * another process's root without leaving it (root: a chrooted child). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tap.h"
#include "util/procns.h"

static void test_nspid(void)
{
	static const struct {
		const char *in;
		int rc, outer, inner;
	} v[] = {
		{ "Name:\tsh\nNSpid:\t4242\n", 0, 4242, 4242 },
		{ "Name:\tsh\nNSpid:\t4242\t7\n", 0, 4242, 7 },
		{ "Tgid:\t1\nNSpid:\t31000\t120\t4\nNSpgid:\t1\n", 0, 31000, 4 },
		{ "NSpid:\t12 3", 0, 12, 3 },
		{ "Name:\tx\n", -EINVAL, 0, 0 },
		{ "NSpid:\t\n", -EINVAL, 0, 0 },
		{ "NSpid:\t12 x\n", -EINVAL, 0, 0 },
		{ "NSpid:\t-4\n", -EINVAL, 0, 0 },
		{ "NSpid:\t99999999999999999999\n", -EINVAL, 0, 0 },
		{ "NSpid:\t12a\n", -EINVAL, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		pid_t o = 0, n = 0;
		int rc = procns_parse_nspid(v[i].in, &o, &n);

		ok(rc == v[i].rc && (rc || (o == v[i].outer && n == v[i].inner)),
		   "NSpid case %zu: rc %d (want %d), %d/%d", i, rc, v[i].rc, (int)o, (int)n);
	}
}

static void test_uid_map(void)
{
	static const struct {
		const char *map;
		uint32_t outer;
		int rc;
		uint32_t inner;
	} v[] = {
		{ "         0          0 4294967295\n", 1000, 0, 1000 },
		{ "         0      65534          1\n", 65534, 0, 0 },
		{ "         0      65534          1\n", 0, -ENOENT, 0 },
		{ "         0       1000          1\n         1     100000      65536\n", 100033, 0, 34 },
		{ "         0       1000          1\n         1     100000      65536\n", 165536, -ENOENT, 0 },
		{ "", 0, -ENOENT, 0 },
		{ "garbage\n", 0, -EINVAL, 0 },
		{ "0 4294967295 1\n", 4294967295u, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint32_t in = 12345;
		int rc = procns_uid_map_inner(v[i].map, v[i].outer, &in);

		ok(rc == v[i].rc && (rc || in == v[i].inner), "uid_map case %zu: rc %d (want %d), %u",
		   i, rc, v[i].rc, in);
	}
}

#define ID "4c0ffee1d5a1b0e3c2b6a7f8e9d0c1b2a3f4e5d6c7b8a9f0e1d2c3b4a5f6e7d8"

static void test_container(void)
{
	static const struct {
		const char *cgroup, *runtime, *id;
	} v[] = {
		/* docker, cgroup v2, systemd driver */
		{ "0::/system.slice/docker-" ID ".scope\n", "docker", ID },
		/* docker, cgroup v1, cgroupfs driver */
		{ "12:pids:/docker/" ID "\n11:memory:/docker/" ID "\n0::/\n", "docker", ID },
		/* containerd under kubelet, systemd driver */
		{ "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0d1c2b3a_4e5f_"
		  "6a7b_8c9d_0e1f2a3b4c5d.slice/cri-containerd-" ID ".scope\n", "containerd", ID },
		/* kubelet with the cgroupfs driver: the runtime is not in the path */
		{ "0::/kubepods/besteffort/pod0d1c2b3a-4e5f-6a7b-8c9d-0e1f2a3b4c5d/" ID "\n",
		  "kubepods", ID },
		/* cri-o; its conmon is not the container */
		{ "0::/kubepods.slice/kubepods-pod1.slice/crio-" ID ".scope\n", "cri-o", ID },
		{ "0::/kubepods.slice/kubepods-pod1.slice/crio-conmon-" ID ".scope\n", NULL, NULL },
		/* podman, rootful and rootless, and split cgroups (a child "container") */
		{ "0::/machine.slice/libpod-" ID ".scope\n", "podman", ID },
		{ "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID
		  ".scope/container\n", "podman", ID },
		{ "0::/machine.slice/libpod-conmon-" ID ".scope\n", NULL, NULL },
		/* systemd-nspawn */
		{ "0::/machine.slice/machine-build\\x2dbox.scope/payload\n", "machine",
		  "build\\x2dbox" },
		/* lxc */
		{ "0::/lxc.payload.web1/init.scope\n", "lxc", "web1" },
		/* not containers: a service, a session, the root, a short hex name */
		{ "0::/system.slice/ssh.service\n", NULL, NULL },
		{ "0::/user.slice/user-1000.slice/session-3.scope\n", NULL, NULL },
		{ "0::/\n", NULL, NULL },
		{ "4:memory:/process_api/a794af1a39c2e1ca71bd891e10fa4d83\n0::/\n", NULL, NULL },
		{ "0::/system.slice/docker-" ID "X.scope\n", NULL, NULL },
		{ "0::/system.slice/docker-" "4C0FFEE1D5A1B0E3C2B6A7F8E9D0C1B2A3F4E5D6C7B8A9F0E1D2C3B4A5F6E7D8"
		  ".scope\n", NULL, NULL },
		{ "garbage without colons\n", NULL, NULL },
		{ "", NULL, NULL },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct procns_container c;
		int rc = procns_container_parse(v[i].cgroup, &c);

		if (v[i].runtime)
			ok(rc == 0 && strcmp(c.runtime, v[i].runtime) == 0 &&
			   strcmp(c.id, v[i].id) == 0, "cgroup case %zu: %s %s", i, c.runtime, c.id);
		else
			ok(rc == -ENOENT && !c.runtime[0], "cgroup case %zu: no container (%d %s)", i,
			   rc, c.runtime);
	}
}

/* A child chrooted into dir, paused: its /proc/<pid>/root is dir. */
static pid_t chrooted_child(const char *dir)
{
	int p[2];
	char c;
	pid_t pid;

	if (pipe(p) < 0)
		bail("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		bail("fork: %s", strerror(errno));
	if (pid == 0) {
		close(p[0]);
		if (chroot(dir) < 0 || chdir("/") < 0)
			_exit(3);
		if (write(p[1], "r", 1) != 1)
			_exit(3);
		pause();
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1)
		bail("the chrooted child did not start");
	close(p[0]);
	return pid;
}

static void test_open_in_root(void)
{
	char dir[] = "/tmp/test-procns.XXXXXX", path[4200], buf[64];
	pid_t pid;
	int fd, status;
	ssize_t n;

	if (geteuid() != 0) {
		if ((getenv("CI") && *getenv("CI")) || tap_strict())
			bail("root is needed, and no skip is allowed under CI or SOCKAUDIT_STRICT=1");
		diag("SKIP open in root: chroot needs root");
		return;
	}
	if (!mkdtemp(dir))
		bail("mkdtemp: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/shm", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/shm/table", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write(fd, "inside", 6) != 6)
		bail("write %s", path);
	close(fd);
	/* Links a container may plant: absolute and ".." out of its root, to
	 * a directory and to a file; and a directory link that stays inside. */
	snprintf(path, sizeof(path), "%s/shm/abs", dir);
	symlink("/etc/passwd", path);
	snprintf(path, sizeof(path), "%s/shm/up", dir);
	symlink("../../../../../../../../etc/passwd", path);
	snprintf(path, sizeof(path), "%s/etcdir", dir);
	symlink("/etc", path);
	snprintf(path, sizeof(path), "%s/inside", dir);
	symlink("/shm", path);
	snprintf(path, sizeof(path), "%s/shm/fifo", dir);
	mkfifo(path, 0600);
	pid = chrooted_child(dir);

	fd = procns_open_in_root(pid, "/shm/table", O_RDONLY | O_NOFOLLOW);
	n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
	ok(n == 6 && memcmp(buf, "inside", 6) == 0, "a file inside the root is read (%d)", fd);
	if (fd >= 0)
		close(fd);
	fd = procns_open_in_root(pid, "/shm/abs", O_RDONLY | O_NOFOLLOW);
	ok(fd == -ELOOP, "a planted link as the last component is refused (%d)", fd);
	fd = procns_open_in_root(pid, "/shm/abs", O_RDONLY);
	ok(fd == -ENOENT, "an absolute link resolves inside the root, never to our /etc (%d)", fd);
	fd = procns_open_in_root(pid, "/shm/up", O_RDONLY);
	ok(fd == -ENOENT, "a \"..\" link stops at the root (%d)", fd);
	fd = procns_open_in_root(pid, "/etcdir/passwd", O_RDONLY);
	ok(fd == -ENOENT, "a directory link out of the root is not followed out (%d)", fd);
	fd = procns_open_in_root(pid, "/../../../etc/passwd", O_RDONLY);
	ok(fd == -ENOENT, "\"..\" in the path itself stops at the root (%d)", fd);
	fd = procns_open_in_root(pid, "/inside/table", O_RDONLY | O_NOFOLLOW);
	ok(fd >= 0, "a directory link that stays inside is followed (%d)", fd);
	if (fd >= 0)
		close(fd);
	fd = procns_open_in_root(pid, "/shm/fifo", O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
	ok(fd >= 0, "a FIFO opens without blocking with O_NONBLOCK (the reader then refuses it)");
	if (fd >= 0)
		close(fd);
	ok(procns_open_in_root(pid, "shm/table", O_RDONLY) == -EINVAL, "a relative path is refused");

	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	ok(procns_open_in_root(pid, "/shm/table", O_RDONLY) == -ENOENT, "a gone process: ENOENT");
	snprintf(path, sizeof(path), "rm -rf -- '%s'", dir);
	if (system(path) != 0)
		diag("could not remove %s", dir);
}

static void test_self(void)
{
	struct procns ns;

	ok(procns_read(getpid(), &ns) == 0 && ns.ns_pid == getpid() && !ns.other_pidns &&
	   !ns.other_root && !ns.other_userns, "this process is in our namespaces");
	ok(procns_read(0x3fffffff, &ns) == -ENOENT, "no such process: -ENOENT");
}

int main(void)
{
	test_nspid();
	test_uid_map();
	test_container();
	test_open_in_root();
	test_self();
	tap_done();
	return 0;
}
