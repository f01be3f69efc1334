/*
 * TOTP (RFC 6238) codes from liboath, verified here: liboath's own
 * oath_totp_validate() compares with strcmp and stops at the first match,
 * and it knows nothing of our replay watermark (doc/DESIGN.md invariants 2 and 7).
 *
 * About oath_init()/oath_done(), read in liboath 2.6.7 (global.c and
 * gnulib's gc-gnulib.c / gc-libgcrypt.c) and checked in Debian's binary:
 *  - oath_init() only calls gc_init().  With the builtin gnulib crypto that
 *    Debian uses (liboath.so.0 links nothing but libc), gc_init() returns
 *    GC_OK and touches no state at all (the Debian build compiles it to
 *    "return 0"), so calling it before every use is free and idempotent.
 *    A liboath built against libgcrypt would instead, the first time anyone
 *    in the process asks, disable libgcrypt's secure memory and finish its
 *    initialisation; that is liboath's doing and happens the same way when
 *    pam_oath sits in the same stack, but a packager choosing that backend
 *    should know it.
 *  - oath_done() only calls gc_done(), a no-op in both backends.  We never
 *    call it anyway: liboath keeps no reference count, so if a backend ever
 *    did tear something down, our call would pull it from under pam_oath or
 *    any other liboath user loaded into the same PAM host process.
 *
 * liboath does not wipe the HMAC output it leaves on its own stack frame;
 * we wipe every code we generate, which is what we can reach.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <liboath/oath.h>
#include <openssl/crypto.h>

#include "mfauth/err.h"
#include "mfauth/totp.h"

/* Same bound as the config's `window` (include/mfauth/conf.h): more is a typo or a DoS. */
#define TOTP_WINDOW_MAX 10
#define TOTP_CODE_MAX 8 /* longest code we issue, without the NUL */

/* Largest time_t, without assuming its width (32-bit time_t still exists). */
#define TOTP_TIME_MAX ((uint64_t)((((time_t)1 << (sizeof(time_t) * 8 - 2)) - 1) * 2 + 1))

static const char b32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/*
 * The factor must be one we can compute for: a record that decoded to
 * something else is corrupt or newer than us, and must not be "verified"
 * with some default instead.
 */
static bool factor_ok(const struct mfa_totp_factor *f)
{
	return f != NULL && (f->digits == 6 || f->digits == 8) &&
	    (f->period == 30 || f->period == 60) && f->alg >= MFA_ALG_SHA1 &&
	    f->alg <= MFA_ALG_SHA512 && f->secret_len >= 1 && f->secret_len <= MFA_SECRET_MAX;
}

static int oath_flags(uint8_t alg)
{
	switch (alg) {
	case MFA_ALG_SHA256:
		return OATH_TOTP_HMAC_SHA256;
	case MFA_ALG_SHA512:
		return OATH_TOTP_HMAC_SHA512;
	default:
		return 0;
	}
}

/*
 * liboath takes a time, not a step, so step * period must fit in time_t;
 * a step beyond that can only come from a corrupt watermark or clock.
 */
static bool step_ok(const struct mfa_totp_factor *f, uint64_t step)
{
	return step <= TOTP_TIME_MAX / f->period;
}

/* One code into out (digits + 1 bytes); the factor and step are already checked. */
static int generate(const struct mfa_totp_factor *f, uint64_t step, char *out)
{
	if (oath_totp_generate2((const char *)f->secret, f->secret_len, (time_t)(step * f->period),
	        f->period, 0, f->digits, oath_flags(f->alg), out) != OATH_OK)
		return MFA_ERR_CRYPTO;
	return 0;
}

uint64_t mfa_totp_step(const struct mfa_totp_factor *f, uint64_t now)
{
	/* No error channel here: a factor without a period gets step 0 rather than SIGFPE. */
	if (f == NULL || f->period == 0)
		return 0;
	return now / f->period;
}

int mfa_totp_code(const struct mfa_totp_factor *f, uint64_t step, char *out, size_t outlen)
{
	int rc = MFA_ERR_INVAL;

	if (out != NULL && outlen > 0)
		out[0] = '\0';
	if (!factor_ok(f) || out == NULL)
		goto done;
	rc = MFA_ERR_RANGE;
	if (outlen < (size_t)f->digits + 1 || !step_ok(f, step))
		goto done;
	rc = MFA_ERR_CRYPTO;
	if (oath_init() != OATH_OK)
		goto done;
	rc = generate(f, step, out);
done:
	if (rc != 0 && out != NULL && outlen > 0)
		OPENSSL_cleanse(out, outlen);
	return rc;
}

int mfa_totp_check_format(const struct mfa_totp_factor *f, const char *code)
{
	size_t i;

	if (f == NULL || code == NULL || (f->digits != 6 && f->digits != 8))
		return MFA_ERR_INVAL;
	/* A NUL inside the first digits fails the digit test, so we never read past it. */
	for (i = 0; i < f->digits; i++)
		if (code[i] < '0' || code[i] > '9')
			return MFA_ERR_INVAL;
	return code[i] == '\0' ? 0 : MFA_ERR_INVAL;
}

/*
 * Every step of the window is generated and compared, and the bookkeeping
 * is done with masks rather than branches, so the time taken says nothing
 * about whether, or at which step, the code matched.
 */
int mfa_totp_verify(const struct mfa_totp_factor *f, const char *code, uint64_t now,
    unsigned window, uint64_t last_step, uint64_t *step)
{
	char cand[TOTP_CODE_MAX + 1];
	uint64_t cur, lo, hi, s, best = 0, have_new = 0, have_old = 0;
	int rc = MFA_ERR_INVAL;

	memset(cand, 0, sizeof(cand));
	if (!factor_ok(f) || step == NULL || window > TOTP_WINDOW_MAX)
		goto out;
	/* Format first: a malformed answer is refused without touching the seed. */
	if ((rc = mfa_totp_check_format(f, code)) != 0)
		goto out;
	cur = now / f->period;
	lo = cur >= window ? cur - window : 0;
	hi = cur + window; /* cannot wrap: cur <= UINT64_MAX / 30 */
	rc = MFA_ERR_RANGE;
	if (!step_ok(f, hi))
		goto out;
	rc = MFA_ERR_CRYPTO;
	if (oath_init() != OATH_OK)
		goto out;

	for (s = lo; s <= hi; s++) {
		uint64_t eq, is_new, take, mask;

		if ((rc = generate(f, s, cand)) != 0)
			goto out;
		eq = (uint64_t)(CRYPTO_memcmp(cand, code, f->digits) == 0);
		OPENSSL_cleanse(cand, sizeof(cand));
		is_new = eq & (uint64_t)(s > last_step);
		/* Steps ascend, so the first new match is the earliest one after last_step. */
		take = is_new & (have_new ^ 1);
		mask = take * UINT64_MAX; /* all ones or zero, without relying on wraparound */
		best = (best & ~mask) | (s & mask);
		have_new |= is_new;
		have_old |= eq & (is_new ^ 1);
	}

	if (have_new) {
		*step = best;
		rc = 0;
	} else if (have_old) {
		rc = MFA_ERR_REPLAY;
	} else {
		rc = MFA_ERR_BADCODE;
	}
out:
	OPENSSL_cleanse(cand, sizeof(cand));
	return rc;
}

/*
 * Our own base32 codec, not liboath's oath_base32_decode/encode (linked for
 * the HOTP code), because measured against liboath 2.6.7 (Debian 12) with
 * the inputs of tests/unit/test_totp.c and fuzz/corpus/base32:
 * - liboath refuses seeds as tokens and people print them, which we accept
 *   and the tests require: "MZXW-6YTB-OI" (hyphens), "mzxw<TAB>6ytb oi"
 *   (a tab), "MZXW6YTBOI=" and "MZXW6YTBOI== ==" (padding not filling the
 *   block, or blanks inside it), " - " (blanks only: the empty seed, refused
 *   later by its length with a clearer message), and the corpus files
 *   seed-blanks-padding and recovery-shape.  Every input we refuse it
 *   refuses too, and where both accept, the bytes are the same.
 * - its decoder frees a heap copy of the seed text (blanks removed, upper
 *   case: "JBSWY3DP..." for "jbsw y3dp ...") without wiping it, seen by
 *   scanning each block at free(); it returns the seed in a malloc'd block
 *   of its own, and has no bound (104 characters give 65 bytes).
 * - its encoder pads with '=' ("f" is "MY======"); the otpauth:// URI and the
 *   enrollment screen want no padding.
 * Accepting more here loosens nothing: a mistyped seed still fails the
 * confirmation code at enrollment.  The first point is pinned by
 * tests/unit/test_totp.c: test_base32_liboath_stricter.
 */

/* 0..31 for a base32 letter (either case) or digit 2-7, -1 otherwise. */
static int b32_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

/* Separators people type or tokens print between groups of a seed. */
static bool b32_blank(char c)
{
	return c == ' ' || c == '\t' || c == '-';
}

/*
 * Leftover bits after the last whole byte are ignored, not checked for
 * zero, as Google Authenticator and oathtool do: seeds printed by tokens
 * are not always canonical, and a mistyped seed is caught by the
 * confirmation code at enrollment anyway.
 */
int mfa_base32_decode(const char *in, uint8_t *out, size_t outmax, size_t *outlen)
{
	uint32_t acc = 0;
	unsigned nbits = 0;
	size_t n = 0;
	bool padding = false;
	int rc = MFA_ERR_INVAL;

	if (outlen != NULL)
		*outlen = 0;
	if (in == NULL || outlen == NULL || (out == NULL && outmax > 0))
		goto done;
	for (; *in != '\0'; in++) {
		int v;

		if (b32_blank(*in))
			continue;
		if (*in == '=') {
			padding = true;
			continue;
		}
		/* '=' only pads the end; data after it means a mangled or concatenated seed. */
		rc = MFA_ERR_INVAL;
		if (padding || (v = b32_value(*in)) < 0)
			goto done;
		acc = (acc << 5) | (uint32_t)v;
		nbits += 5;
		if (nbits >= 8) {
			rc = MFA_ERR_RANGE;
			if (n >= outmax)
				goto done;
			nbits -= 8;
			out[n++] = (uint8_t)(acc >> nbits);
			acc &= (1u << nbits) - 1;
		}
	}
	*outlen = n;
	rc = 0;
done:
	/* A partial seed is still a secret. */
	if (rc != 0 && n > 0)
		OPENSSL_cleanse(out, n);
	OPENSSL_cleanse(&acc, sizeof(acc));
	return rc;
}

int mfa_base32_encode(const uint8_t *in, size_t len, char *out, size_t outlen)
{
	uint32_t acc = 0;
	unsigned nbits = 0;
	size_t i, n = 0;

	if (out == NULL || outlen == 0 || (in == NULL && len > 0))
		return MFA_ERR_INVAL;
	out[0] = '\0';
	if (len > (SIZE_MAX - 4) / 8 || outlen < (len * 8 + 4) / 5 + 1)
		return MFA_ERR_RANGE;
	for (i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		nbits += 8;
		while (nbits >= 5) {
			nbits -= 5;
			out[n++] = b32_alphabet[(acc >> nbits) & 31];
		}
		acc &= (1u << nbits) - 1;
	}
	if (nbits > 0)
		out[n++] = b32_alphabet[(acc << (5 - nbits)) & 31];
	out[n] = '\0';
	OPENSSL_cleanse(&acc, sizeof(acc));
	return 0;
}

const char *mfa_alg_name(uint8_t alg)
{
	switch (alg) {
	case MFA_ALG_SHA1:
		return "sha1";
	case MFA_ALG_SHA256:
		return "sha256";
	case MFA_ALG_SHA512:
		return "sha512";
	default:
		return NULL;
	}
}

int mfa_alg_parse(const char *name, uint8_t *alg)
{
	uint8_t a;

	if (name == NULL || alg == NULL)
		return MFA_ERR_INVAL;
	for (a = MFA_ALG_SHA1; a <= MFA_ALG_SHA512; a++) {
		if (strcasecmp(name, mfa_alg_name(a)) == 0) {
			*alg = a;
			return 0;
		}
	}
	return MFA_ERR_INVAL;
}
