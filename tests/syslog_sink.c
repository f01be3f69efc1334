/*
 * A private /dev/log for tests; see syslog_sink.h for why it is built on an
 * overlay over /dev in a mount namespace of our own.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "syslog_sink.h"

/*
 * Staging area for the overlay's layers, mounted over /tmp only while we set
 * up.  Hiding /tmp for a moment harms nobody (the namespace is ours and we are
 * single-threaded), and unlike a mkdtemp() directory it leaves nothing on a
 * host filesystem, even when the test dies half way.
 */
#define STAGE "/tmp"
#define STAGE_UPPER STAGE "/upper"
#define STAGE_WORK STAGE "/work"
#define STAGE_OLDDEV STAGE "/olddev"

static bool entered;
static char errmsg[512] = "no error";

static int fail(const char *what, const char *detail)
{
	snprintf(errmsg, sizeof(errmsg), "%s%s: %s", what, detail, strerror(errno));
	return -1;
}

const char *sink_error(void)
{
	return errmsg;
}

/*
 * Mounts that live below /dev would be hidden by the overlay: mount them again
 * from the view of the old /dev.  Only the usual ones; a name that is not a
 * mount point there (same st_dev as /dev itself) is left alone.
 */
static int restore_submounts(void)
{
	static const char *const names[] = { "pts", "shm", "mqueue", "hugepages", "console" };
	char src[64], dst[64];
	struct stat devst, st;

	if (stat(STAGE_OLDDEV, &devst) != 0)
		return fail("stat ", STAGE_OLDDEV);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(src, sizeof(src), "%s/%s", STAGE_OLDDEV, names[i]);
		snprintf(dst, sizeof(dst), "/dev/%s", names[i]);
		if (stat(src, &st) != 0 || st.st_dev == devst.st_dev)
			continue;
		if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) != 0)
			return fail("bind-mount back ", dst);
	}
	return 0;
}

/* The merged /dev takes its root's owner and mode from the upper layer. */
static int make_layers(void)
{
	struct stat st;

	if (stat("/dev", &st) != 0)
		return fail("stat ", "/dev");
	if (mkdir(STAGE_UPPER, 0700) != 0 || mkdir(STAGE_WORK, 0700) != 0 ||
	    mkdir(STAGE_OLDDEV, 0700) != 0)
		return fail("mkdir in ", STAGE);
	if (chown(STAGE_UPPER, st.st_uid, st.st_gid) != 0 ||
	    chmod(STAGE_UPPER, st.st_mode & 07777) != 0)
		return fail("chown/chmod ", STAGE_UPPER);
	return 0;
}

int sink_enter_namespace(void)
{
	bool staged = false;
	int fd, rc = -1;

	if (entered)
		return 0;
	if (unshare(CLONE_NEWNS) != 0)
		return fail("unshare(CLONE_NEWNS)", " (needs root with CAP_SYS_ADMIN)");
	/* Nothing mounted from here on may propagate back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		return fail("mount --make-rprivate ", "/");
	if (mount("sink-stage", STAGE, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0700,size=1m") != 0)
		return fail("mount tmpfs on ", STAGE);
	staged = true;
	if (make_layers() != 0)
		goto out;
	if (mount("/dev", STAGE_OLDDEV, NULL, MS_BIND | MS_REC, NULL) != 0) {
		fail("bind-mount /dev on ", STAGE_OLDDEV);
		goto out;
	}
	if (mount("sink-dev", "/dev", "overlay", MS_NOSUID,
	        "lowerdir=/dev,upperdir=" STAGE_UPPER ",workdir=" STAGE_WORK) != 0) {
		fail("mount overlay on ", "/dev (is overlayfs available?)");
		goto out;
	}
	if (restore_submounts() != 0)
		goto out;
	/*
	 * The overlay holds its own reference to the upper layer, so the staging
	 * tmpfs can go: /tmp is the host's /tmp again.
	 */
	if (umount2(STAGE, MNT_DETACH) != 0) {
		fail("umount ", STAGE);
		goto out;
	}
	staged = false;
	/* Start with nobody listening, whatever the host has at /dev/log. */
	if (unlink(SINK_PATH) != 0 && errno != ENOENT) {
		fail("unlink ", SINK_PATH);
		goto out;
	}
	/* The overlay must not have cost us the device nodes. */
	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "x", 1) != 1) {
		fail("write ", "/dev/null in the overlay");
		if (fd >= 0)
			close(fd);
		goto out;
	}
	close(fd);
	entered = true;
	rc = 0;
out:
	if (staged)
		umount2(STAGE, MNT_DETACH);
	return rc;
}

/*
 * Never touch /dev/log outside our namespace: that would unlink the host's
 * real logging socket.
 */
static int require_namespace(void)
{
	if (entered)
		return 0;
	errno = EPERM;
	return fail("sink: call sink_enter_namespace() first", "");
}

static int bind_log_socket(int type)
{
	struct sockaddr_un sa;
	int fd;

	if (require_namespace() != 0)
		return -1;
	if (unlink(SINK_PATH) != 0 && errno != ENOENT)
		return fail("unlink ", SINK_PATH);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, SINK_PATH, sizeof(SINK_PATH));
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail("socket", "");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		fail("bind ", SINK_PATH);
		close(fd);
		return -1;
	}
	/*
	 * Writable by anyone, as a syslog daemon's /dev/log is: the module in a
	 * clerk's own process (a screen locker) and unix_chkpwd send as the
	 * clerk, and a socket only root may write to dropped their lines, so a
	 * check that no such line says something could not fail.
	 */
	if (chmod(SINK_PATH, 0666) != 0) {
		fail("chmod ", SINK_PATH);
		close(fd);
		return -1;
	}
	return fd;
}

int sink_open(void)
{
	return bind_log_socket(SOCK_DGRAM);
}

int sink_open_stream(int backlog)
{
	int fd = bind_log_socket(SOCK_STREAM);

	if (fd < 0)
		return -1;
	if (listen(fd, backlog) != 0) {
		fail("listen ", SINK_PATH);
		close(fd);
		return -1;
	}
	return fd;
}

int sink_close(int fd)
{
	if (fd >= 0)
		close(fd);
	if (require_namespace() != 0)
		return -1;
	if (unlink(SINK_PATH) != 0 && errno != ENOENT)
		return fail("unlink ", SINK_PATH);
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 1 readable, 0 deadline passed, -1 error. */
static int wait_readable(int fd, long long deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long long left = deadline - now_ms();
		int n;

		if (left < 0)
			left = 0;
		n = poll(&p, 1, (int)(left > INT_MAX ? INT_MAX : left));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail("poll", "");
		if (n == 0)
			return 0;
		return 1;
	}
}

static ssize_t recv_dgram(int fd, char *buf, size_t len, long long deadline)
{
	for (;;) {
		ssize_t n;
		int w = wait_readable(fd, deadline);

		if (w <= 0)
			return w;
		/* MSG_TRUNC makes recv() report the real size, so we see overflow. */
		n = recv(fd, buf, len - 1, MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return fail("recv", "");
		if (n == 0)
			continue;
		if ((size_t)n > len - 1) {
			errno = EMSGSIZE;
			return fail("recv: message larger than the buffer", "");
		}
		buf[n] = '\0';
		return n;
	}
}

static ssize_t recv_stream(int lfd, char *buf, size_t len, long long deadline)
{
	size_t got = 0;
	ssize_t rc = -1;
	int w, cfd;

	w = wait_readable(lfd, deadline);
	if (w <= 0)
		return w;
	cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (cfd < 0)
		return fail("accept", "");
	for (;;) {
		ssize_t n;

		w = wait_readable(cfd, deadline);
		if (w == 0) {
			errno = ETIMEDOUT;
			fail("recv: sender did not close the connection", "");
		}
		if (w <= 0)
			goto out;
		n = read(cfd, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fail("read", "");
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > len - 1) {
			errno = EMSGSIZE;
			fail("recv: message larger than the buffer", "");
			goto out;
		}
	}
	buf[got] = '\0';
	rc = (ssize_t)got;
out:
	close(cfd);
	return rc;
}

ssize_t sink_recv(int fd, char *buf, size_t len, int timeout_ms)
{
	long long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	socklen_t tlen = sizeof(int);
	int type;

	if (buf == NULL || len == 0) {
		errno = EINVAL;
		return fail("sink_recv: no buffer", "");
	}
	buf[0] = '\0';
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0)
		return fail("getsockopt(SO_TYPE)", "");
	if (type == SOCK_STREAM)
		return recv_stream(fd, buf, len, deadline);
	return recv_dgram(fd, buf, len, deadline);
}

int sink_drain(int fd)
{
	char buf[64];
	int count = 0;

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? count : fail("recv", "");
		count++;
	}
}
