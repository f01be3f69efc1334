/*
 * killshim: LD_PRELOAD into a helper run by root (never setuid: glibc drops
 * LD_PRELOAD there), to kill it with SIGKILL in the middle of the code
 * check -- when it computes the first TOTP code to compare, after it read
 * the state and before it could write a verdict.  Stands in for whatever
 * may end a helper mid-check (tests/helper/test-helper.sh).
 */
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

int oath_totp_generate2(const char *secret, size_t secret_length, long now, unsigned time_step_size,
    long start_offset, unsigned digits, int flags, char *output_otp);

int oath_totp_generate2(const char *secret, size_t secret_length, long now, unsigned time_step_size,
    long start_offset, unsigned digits, int flags, char *output_otp)
{
	(void)secret;
	(void)secret_length;
	(void)now;
	(void)time_step_size;
	(void)start_offset;
	(void)digits;
	(void)flags;
	(void)output_otp;
	raise(SIGKILL);
	return -1;
}
