/*
 * Writes the seed corpus of fuzz_record.c: record files sealed under the
 * fixed fuzz key and user (fuzz_record.h), the same records as plaintexts,
 * and state files with valid slots, so that mutations start from inputs that
 * get past authentication and exercise every field of the decoders.
 *
 *   gen_record_corpus fuzz/corpus/record
 *
 * Sealing draws fresh nonces, so the sealed seeds differ on every run; the
 * plaintext seeds are the same bytes every time.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mfauth/buf.h"
#include "mfauth/err.h"
#include "mfauth/record.h"
#include "mfauth/state.h"
#include "fuzz_record.h"

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + 37 * i);
}

static void add_totp(struct mfa_record *r, uint8_t alg, uint8_t digits, uint16_t period)
{
	r->totp.present = true;
	fill(r->totp.secret, 20, 0x31);
	r->totp.secret_len = 20;
	r->totp.alg = alg;
	r->totp.digits = digits;
	r->totp.period = period;
	r->totp.enrolled_at = 1700000000;
}

static void add_card(struct mfa_record *r, uint8_t profile)
{
	r->card.present = true;
	r->card.profile = profile;
	fill(r->card.spki, 294, 0x30);
	r->card.spki[0] = 0x30;
	r->card.spki_len = 294;
	fill(r->card.fingerprint, sizeof(r->card.fingerprint), 0xa0);
	snprintf(r->card.subject, sizeof(r->card.subject), "CN=%s,O=Example City,C=JP",
	    profile == MFA_CARD_JPKI ? "JPKI user" : "PIV staff");
	snprintf(r->card.serial, sizeof(r->card.serial), "0123456789ABCDEF");
	r->card.not_before = 1600000000;
	r->card.not_after = 1760000000;
	r->card.enrolled_at = 1700000100;
}

static void add_recovery(struct mfa_record *r)
{
	r->recovery.present = true;
	r->recovery.id = 0x0123456789abcdefULL;
	fill(r->recovery.salt, sizeof(r->recovery.salt), 0x51);
	fill(r->recovery.hash, sizeof(r->recovery.hash), 0x62);
	r->recovery.iterations = 200000;
	r->recovery.issued_at = 1700000200;
	r->recovery.expires_at = 1700086600;
}

static int write_file(const char *dir, const char *name, const void *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		fprintf(stderr, "%s: write failed\n", path);
		return -1;
	}
	return 0;
}

/* Write rec as "plain-NAME" (encoded) and "sealed-NAME" (a whole record file). */
static int write_record(const char *dir, const char *name, const struct mfa_key *key,
    const struct mfa_record *rec)
{
	struct mfa_buf pt, file;
	char fname[256];
	int rc = -1;

	mfa_buf_init(&pt);
	mfa_buf_init(&file);
	if (mfa_record_encode(rec, &pt) != 0 ||
	    mfa_record_seal(key, FUZZ_RECORD_USER, rec, &file) != 0) {
		fprintf(stderr, "%s: cannot encode\n", name);
		goto out;
	}
	snprintf(fname, sizeof(fname), "plain-%s", name);
	if (write_file(dir, fname, pt.data, pt.len) != 0)
		goto out;
	snprintf(fname, sizeof(fname), "sealed-%s", name);
	if (write_file(dir, fname, file.data, file.len) != 0)
		goto out;
	rc = 0;
out:
	mfa_buf_free(&pt);
	mfa_buf_free(&file);
	return rc;
}

static int write_states(const char *dir, const struct mfa_key *key)
{
	uint8_t file[MFA_STATE_FILE_LEN];
	struct mfa_state st;

	memset(&st, 0, sizeof(st));
	st.seq = 1;
	memset(file, 0, sizeof(file));
	if (mfa_state_seal_slot(key, FUZZ_RECORD_USER, &st, file) != 0 ||
	    write_file(dir, "state-slot0-only", file, sizeof(file)) != 0)
		return -1;

	st.seq = 7;
	st.last_step = 56666666;
	st.failures = 3;
	st.first_failure = 1700000000;
	st.last_failure = 1700000090;
	st.locked_until = MFA_LOCK_FOREVER;
	st.last_success = 1699999000;
	st.recovery_used = 0x0123456789abcdefULL;
	snprintf(st.fail_service, sizeof(st.fail_service), "gdm-password");
	snprintf(st.fail_tty, sizeof(st.fail_tty), "tty2");
	snprintf(st.fail_rhost, sizeof(st.fail_rhost), "192.0.2.10");
	if (mfa_state_seal_slot(key, FUZZ_RECORD_USER, &st, file + MFA_STATE_SLOT_LEN) != 0 ||
	    write_file(dir, "state-both-slots", file, sizeof(file)) != 0)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int totp, card, recovery;
		uint8_t alg, digits, profile;
		uint16_t period;
		/* clang-format off */
	} recs[] = {
		{ "created-only", 0, 0, 0, 0, 0, 0, 0 },
		{ "totp-sha1-6-30", 1, 0, 0, MFA_ALG_SHA1, 6, 0, 30 },
		{ "totp-sha512-8-60", 1, 0, 0, MFA_ALG_SHA512, 8, 0, 60 },
		{ "card-jpki", 0, 1, 0, 0, 0, MFA_CARD_JPKI, 0 },
		{ "card-piv-recovery", 0, 1, 1, 0, 0, MFA_CARD_PIV, 0 },
		{ "recovery-only", 0, 0, 1, 0, 0, 0, 0 },
		{ "full", 1, 1, 1, MFA_ALG_SHA256, 8, MFA_CARD_PIV, 30 },
	};
	/* clang-format on */
	struct mfa_key key;

	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	memcpy(key.bytes, fuzz_record_key, MFA_KEY_LEN);
	if (mfa_key_derive_id(&key) != 0)
		return 1;
	for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
		struct mfa_record rec;

		memset(&rec, 0, sizeof(rec));
		rec.created_at = 1700000000 + i;
		if (recs[i].totp)
			add_totp(&rec, recs[i].alg, recs[i].digits, recs[i].period);
		if (recs[i].card)
			add_card(&rec, recs[i].profile);
		if (recs[i].recovery)
			add_recovery(&rec);
		if (write_record(argv[1], recs[i].name, &key, &rec) != 0)
			return 1;
	}
	if (write_states(argv[1], &key) != 0)
		return 1;
	mfa_key_wipe(&key);
	return 0;
}
