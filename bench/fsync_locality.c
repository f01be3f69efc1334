/*
 * fsync_locality: what one durable 512-byte rewrite costs, depending on
 * where it lands.  The benchmark's floor rewrites one file over and over;
 * a login of pam_mfauth rewrites the state file of whoever logs in, a
 * different file each time.  This measures the difference on its own.
 *
 *   fsync_locality DIR [N] [ROUNDS]
 *
 * In DIR (created; must not exist) it makes N files of 1,024 bytes (a
 * state file's size), one such file, and one file of N 4-KiB blocks, all
 * synced.  Then, for ROUNDS rounds, three batches of N rewrites take turns,
 * each rewrite being open + pwrite 512 bytes + fdatasync + close:
 *   same_file   the one file, every time                 (the floor)
 *   per_file    file i of the N files for rewrite i        (pam_mfauth)
 *   per_block   block i of the one big file for rewrite i
 * and prints one line, the median of the rounds' medians in µs, and how many
 * writes the file system's block device completed per rewrite (from
 * /sys/dev/block/MAJ:MIN/stat; "-" where the file system has no block device):
 *   fsync_locality n=N rounds=R same_file_us=X per_file_us=Y per_block_us=Z
 *       same_file_writes=A per_file_writes=B per_block_writes=C
 * The writes tell why a kind costs more: on ext4 without a journal, a
 * rewrite that changes the file's mtime makes fdatasync write the inode's
 * block too (the same file, rewritten within one clock tick, mostly keeps
 * its mtime).
 * DIR is removed at the end.  Exit status 0, or 2 on any error.
 *
 * Build: cc -O2 -o fsync_locality fsync_locality.c (needs nothing else).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#define STATE_BYTES 1024
#define WRITE_BYTES 512
#define BLOCK_BYTES 4096
#define N_DEFAULT 2000
#define N_MAX 100000
#define ROUNDS_DEFAULT 3
#define ROUNDS_MAX 15

enum kind { SAME_FILE, PER_FILE, PER_BLOCK, KINDS };
static const char *const kind_name[KINDS] = { "same_file", "per_file", "per_block" };

static void die(const char *what)
{
	fprintf(stderr, "fsync_locality: %s: %s\n", what, strerror(errno));
	exit(2);
}

static double now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void make_file(const char *path, size_t bytes)
{
	static const char zero[BLOCK_BYTES];
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0)
		die(path);
	for (size_t done = 0; done < bytes; done += sizeof(zero)) {
		size_t len = bytes - done < sizeof(zero) ? bytes - done : sizeof(zero);
		if (write(fd, zero, len) != (ssize_t)len)
			die(path);
	}
	if (fsync(fd) != 0 || close(fd) != 0)
		die(path);
}

/*
 * Writes completed by the block device holding dev (field 5 of its stat
 * file), or -1 when there is none to read (tmpfs, overlay, no sysfs).
 */
static long long device_writes(dev_t dev)
{
	char path[64];
	unsigned long long v[5];
	FILE *f;
	int got;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/stat", major(dev), minor(dev));
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	got = fscanf(f, "%llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4]);
	fclose(f);
	return got == 5 ? (long long)v[4] : -1;
}

/* One durable rewrite, timed from open to close. */
static double rewrite(const char *path, off_t off, unsigned char fill)
{
	unsigned char buf[WRITE_BYTES];
	double t0 = now_us();
	int fd = open(path, O_RDWR | O_CLOEXEC);

	memset(buf, fill, sizeof(buf));
	if (fd < 0)
		die(path);
	if (pwrite(fd, buf, sizeof(buf), off) != (ssize_t)sizeof(buf) || fdatasync(fd) != 0)
		die(path);
	if (close(fd) != 0)
		die(path);
	return now_us() - t0;
}

static void file_name(char *out, size_t len, const char *dir, size_t i)
{
	snprintf(out, len, "%s/f%06zu", dir, i);
}

/* One batch of n rewrites of one kind; returns their median. */
static double batch(const char *dir, enum kind k, size_t n, double *t, unsigned char fill)
{
	char path[4096];

	for (size_t i = 0; i < n; i++) {
		switch (k) {
		case SAME_FILE:
			snprintf(path, sizeof(path), "%s/one", dir);
			t[i] = rewrite(path, 0, fill);
			break;
		case PER_FILE:
			file_name(path, sizeof(path), dir, i);
			t[i] = rewrite(path, STATE_BYTES - WRITE_BYTES, fill);
			break;
		default:
			snprintf(path, sizeof(path), "%s/blocks", dir);
			t[i] = rewrite(path, (off_t)i * BLOCK_BYTES, fill);
			break;
		}
	}
	return median(t, n);
}

static void remove_all(const char *dir, size_t n)
{
	char path[4096];

	for (size_t i = 0; i < n; i++) {
		file_name(path, sizeof(path), dir, i);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/one", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/blocks", dir);
	unlink(path);
	rmdir(dir);
}

/* A whole decimal number in [1, max], or 0: "3x", "-1", "" and overflow are not numbers. */
static unsigned long count_arg(const char *s, unsigned long max)
{
	char *end = NULL;
	unsigned long v;

	if (s[0] < '0' || s[0] > '9')
		return 0;
	errno = 0;
	v = strtoul(s, &end, 10);
	return errno == 0 && *end == '\0' && v >= 1 && v <= max ? v : 0;
}

int main(int argc, char **argv)
{
	size_t n = argc > 2 ? count_arg(argv[2], N_MAX) : N_DEFAULT;
	int rounds = argc > 3 ? (int)count_arg(argv[3], ROUNDS_MAX) : ROUNDS_DEFAULT;
	double med[KINDS][ROUNDS_MAX], *t;
	long long writes[KINDS] = { 0 }, before, after;
	bool counted = true;
	struct stat st;
	char path[4096];
	const char *dir;

	if (argc < 2 || argc > 4 || n < 1 || n > N_MAX || rounds < 1 || rounds > ROUNDS_MAX) {
		fprintf(stderr, "usage: fsync_locality DIR [N (1..%d)] [ROUNDS (1..%d)]\n", N_MAX,
		    ROUNDS_MAX);
		return 2;
	}
	dir = argv[1];
	if (mkdir(dir, 0700) != 0)
		die(dir);
	if ((t = calloc(n, sizeof(*t))) == NULL)
		die("calloc");
	for (size_t i = 0; i < n; i++) {
		file_name(path, sizeof(path), dir, i);
		make_file(path, STATE_BYTES);
	}
	snprintf(path, sizeof(path), "%s/one", dir);
	make_file(path, STATE_BYTES);
	snprintf(path, sizeof(path), "%s/blocks", dir);
	make_file(path, n * BLOCK_BYTES);
	sync();
	if (stat(dir, &st) != 0)
		die(dir);
	/* The kinds take turns in an order that rotates, so drift hits all alike. */
	for (int r = 0; r < rounds; r++)
		for (int j = 0; j < KINDS; j++) {
			enum kind k = (enum kind)((r + j) % KINDS);
			before = device_writes(st.st_dev);
			med[k][r] = batch(dir, k, n, t, (unsigned char)(r + 1));
			after = device_writes(st.st_dev);
			counted = counted && before >= 0 && after >= before;
			writes[k] += after - before;
		}
	printf("fsync_locality n=%zu rounds=%d", n, rounds);
	for (int k = 0; k < KINDS; k++)
		printf(" %s_us=%.1f", kind_name[k], median(med[k], (size_t)rounds));
	for (int k = 0; k < KINDS; k++) {
		if (counted)
			printf(" %s_writes=%.2f", kind_name[k],
			    (double)writes[k] / ((double)n * rounds));
		else
			printf(" %s_writes=-", kind_name[k]);
	}
	printf("\n");
	free(t);
	remove_all(dir, n);
	return 0;
}
