/*
 * Corpus replay for fuzz targets built without libFuzzer (any C compiler),
 * so CI runs every target over its corpus under ASan/UBSan:
 *
 *   fuzz_record_replay fuzz/corpus/record [more dirs or files...]
 *
 * A directory is replayed file by file (regular files only, sorted by name,
 * not recursive); a file is replayed as one input.  Prints "replayed N
 * inputs" and exits 0; a sanitizer report or abort() in the target fails the
 * run, and so does an argument that cannot be read (exit 1) or no argument at
 * all (exit 2), so a wrong path never passes silently.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional in a target, as with libFuzzer. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* Inputs larger than this are not corpus entries but mistakes. */
#define REPLAY_MAX (64u << 20)

/* Run the target on one file; 0, or -1 after printing why it could not be read. */
static int replay_file(const char *path)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t len, got = 0;
	int fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > REPLAY_MAX) {
		fprintf(stderr, "replay: %s: not a regular file of at most %u bytes\n", path,
		    REPLAY_MAX);
		goto out;
	}
	len = (size_t)st.st_size;
	/* Exactly len bytes, as libFuzzer does, so an over-read is caught. */
	if ((buf = malloc(len > 0 ? len : 1)) == NULL) {
		fprintf(stderr, "replay: %s: out of memory\n", path);
		goto out;
	}
	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "replay: %s: short read\n", path);
			goto out;
		}
		got += (size_t)n;
	}
	LLVMFuzzerTestOneInput(buf, len);
	rc = 0;
out:
	free(buf);
	close(fd);
	return rc;
}

/* Replay every regular file of dir in name order; -1 on a read error. */
static int replay_dir(const char *dir, size_t *count)
{
	struct dirent **list = NULL;
	int n, rc = 0;

	if ((n = scandir(dir, &list, NULL, alphasort)) < 0) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		struct stat st;
		size_t plen = strlen(dir) + strlen(list[i]->d_name) + 2;
		char *path = malloc(plen);

		if (path == NULL) {
			rc = -1;
			break;
		}
		snprintf(path, plen, "%s/%s", dir, list[i]->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (replay_file(path) != 0)
				rc = -1;
			else
				(*count)++;
		}
		free(path);
	}
	for (int i = 0; i < n; i++)
		free(list[i]);
	free(list);
	return rc;
}

int main(int argc, char **argv)
{
	size_t count = 0;
	int failed = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
		return 2;
	}
	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			failed = 1;
		} else if (S_ISDIR(st.st_mode)) {
			if (replay_dir(argv[i], &count) != 0)
				failed = 1;
		} else if (replay_file(argv[i]) != 0) {
			failed = 1;
		} else {
			count++;
		}
	}
	printf("replayed %zu inputs\n", count);
	return failed ? 1 : 0;
}
