/*
 * Record encoding: a list of (u16 tag, u16 length, value) fields, described
 * by one table so that encoder and decoder cannot drift apart.  The sealed
 * file adds magic, version and key id in front (see record.h).
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "mfauth/err.h"
#include "mfauth/record.h"

#define TAG_OPTIONAL 0x8000u

enum field_kind { F_U8, F_U16, F_U32, F_U64, F_FIXED, F_VAR, F_STR };

/* A field group is present when its first (key) field is. */
enum field_group { G_RECORD, G_TOTP, G_CARD, G_RECOVERY };

struct field_desc {
	uint16_t tag;
	uint8_t kind;
	uint8_t group;
	size_t offset;     /* of the value in struct mfa_record */
	size_t size;       /* F_FIXED: exact length; F_VAR/F_STR: capacity */
	size_t len_offset; /* F_VAR: offset of the size_t length */
};

#define OFF(m) offsetof(struct mfa_record, m)
#define SZ(m) sizeof(((struct mfa_record *)0)->m)

/* The first field of each group marks the group present. */
/* clang-format off */
static const struct field_desc fields[] = {
	{ 0x0001, F_U64, G_RECORD, OFF(created_at), 8, 0 },
	{ 0x0010, F_VAR, G_TOTP, OFF(totp.secret), SZ(totp.secret), OFF(totp.secret_len) },
	{ 0x0011, F_U8, G_TOTP, OFF(totp.digits), 1, 0 },
	{ 0x0012, F_U8, G_TOTP, OFF(totp.alg), 1, 0 },
	{ 0x0013, F_U16, G_TOTP, OFF(totp.period), 2, 0 },
	{ 0x0014, F_U64, G_TOTP, OFF(totp.enrolled_at), 8, 0 },
	{ 0x0020, F_U8, G_CARD, OFF(card.profile), 1, 0 },
	{ 0x0021, F_VAR, G_CARD, OFF(card.spki), SZ(card.spki), OFF(card.spki_len) },
	{ 0x0022, F_FIXED, G_CARD, OFF(card.fingerprint), SZ(card.fingerprint), 0 },
	{ 0x0023, F_STR, G_CARD, OFF(card.subject), SZ(card.subject), 0 },
	{ 0x0024, F_STR, G_CARD, OFF(card.serial), SZ(card.serial), 0 },
	{ 0x0025, F_U64, G_CARD, OFF(card.not_before), 8, 0 },
	{ 0x0026, F_U64, G_CARD, OFF(card.not_after), 8, 0 },
	{ 0x0027, F_U64, G_CARD, OFF(card.enrolled_at), 8, 0 },
	/* Optional: records enrolled before card identifiers lack them (LEGACY). */
	{ 0x8028, F_U8, G_CARD, OFF(card.id_kind), 1, 0 },
	{ 0x8029, F_VAR, G_CARD, OFF(card.id), SZ(card.id), OFF(card.id_len) },
	{ 0x0030, F_U64, G_RECOVERY, OFF(recovery.id), 8, 0 },
	{ 0x0031, F_FIXED, G_RECOVERY, OFF(recovery.salt), SZ(recovery.salt), 0 },
	{ 0x0032, F_FIXED, G_RECOVERY, OFF(recovery.hash), SZ(recovery.hash), 0 },
	{ 0x0033, F_U32, G_RECOVERY, OFF(recovery.iterations), 4, 0 },
	{ 0x0034, F_U64, G_RECOVERY, OFF(recovery.issued_at), 8, 0 },
	{ 0x0035, F_U64, G_RECOVERY, OFF(recovery.expires_at), 8, 0 },
};
/* clang-format on */
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static bool group_present(const struct mfa_record *rec, uint8_t group)
{
	switch (group) {
	case G_TOTP:
		return rec->totp.present;
	case G_CARD:
		return rec->card.present;
	case G_RECOVERY:
		return rec->recovery.present;
	default:
		return true;
	}
}

static void set_group_present(struct mfa_record *rec, uint8_t group)
{
	switch (group) {
	case G_TOTP:
		rec->totp.present = true;
		break;
	case G_CARD:
		rec->card.present = true;
		break;
	case G_RECOVERY:
		rec->recovery.present = true;
		break;
	default:
		break;
	}
}

static bool is_optional(const struct field_desc *f)
{
	return (f->tag & TAG_OPTIONAL) != 0;
}

static uint64_t load_uint(const uint8_t *base, const struct field_desc *f)
{
	const uint8_t *p = base + f->offset;
	uint8_t v8;
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;
	switch (f->kind) {
	case F_U8:
		memcpy(&v8, p, 1);
		return v8;
	case F_U16:
		memcpy(&v16, p, 2);
		return v16;
	case F_U32:
		memcpy(&v32, p, 4);
		return v32;
	default:
		memcpy(&v64, p, 8);
		return v64;
	}
}

static void store_uint(uint8_t *base, const struct field_desc *f, uint64_t v)
{
	uint8_t *p = base + f->offset;
	uint8_t v8 = (uint8_t)v;
	uint16_t v16 = (uint16_t)v;
	uint32_t v32 = (uint32_t)v;
	switch (f->kind) {
	case F_U8:
		memcpy(p, &v8, 1);
		break;
	case F_U16:
		memcpy(p, &v16, 2);
		break;
	case F_U32:
		memcpy(p, &v32, 4);
		break;
	default:
		memcpy(p, &v, 8);
		break;
	}
}

/* An optional field holding zero (a number 0, no bytes) is left out of the encoding. */
static bool field_is_zero(const uint8_t *base, const struct field_desc *f)
{
	size_t len;

	switch (f->kind) {
	case F_U8:
	case F_U16:
	case F_U32:
	case F_U64:
		return load_uint(base, f) == 0;
	case F_VAR:
		memcpy(&len, base + f->len_offset, sizeof(len));
		return len == 0;
	case F_STR:
		return base[f->offset] == '\0';
	default:
		return false;
	}
}

int mfa_record_encode(const struct mfa_record *rec, struct mfa_buf *out)
{
	const uint8_t *base = (const uint8_t *)rec;

	for (size_t i = 0; i < NFIELDS; i++) {
		const struct field_desc *f = &fields[i];
		size_t len;

		if (!group_present(rec, f->group) || (is_optional(f) && field_is_zero(base, f)))
			continue;
		mfa_put_u16(out, f->tag);
		switch (f->kind) {
		case F_U8:
		case F_U16:
		case F_U32:
		case F_U64: {
			uint64_t v = load_uint(base, f);
			mfa_put_u16(out, (uint16_t)f->size);
			for (size_t b = f->size; b-- > 0;)
				mfa_put_u8(out, (uint8_t)(v >> (8 * b)));
			break;
		}
		case F_FIXED:
			mfa_put_u16(out, (uint16_t)f->size);
			mfa_put_bytes(out, base + f->offset, f->size);
			break;
		case F_VAR:
			memcpy(&len, base + f->len_offset, sizeof(len));
			if (len > f->size)
				return MFA_ERR_RANGE;
			mfa_put_u16(out, (uint16_t)len);
			mfa_put_bytes(out, base + f->offset, len);
			break;
		case F_STR:
			len = strnlen((const char *)base + f->offset, f->size);
			if (len >= f->size)
				return MFA_ERR_RANGE;
			mfa_put_u16(out, (uint16_t)len);
			mfa_put_bytes(out, base + f->offset, len);
			break;
		}
	}
	return mfa_buf_error(out);
}

static const struct field_desc *find_field(uint16_t tag, size_t *index)
{
	for (size_t i = 0; i < NFIELDS; i++)
		if (fields[i].tag == tag) {
			*index = i;
			return &fields[i];
		}
	return NULL;
}

static int decode_value(uint8_t *base, const struct field_desc *f, const uint8_t *v, uint16_t len)
{
	uint64_t x = 0;

	switch (f->kind) {
	case F_U8:
	case F_U16:
	case F_U32:
	case F_U64:
		if (len != f->size)
			return MFA_ERR_CORRUPT;
		for (size_t b = 0; b < len; b++)
			x = (x << 8) | v[b];
		store_uint(base, f, x);
		return 0;
	case F_FIXED:
		if (len != f->size)
			return MFA_ERR_CORRUPT;
		memcpy(base + f->offset, v, len);
		return 0;
	case F_VAR:
		if (len == 0 || len > f->size)
			return MFA_ERR_CORRUPT;
		memcpy(base + f->offset, v, len);
		memcpy(base + f->len_offset, &(size_t){ len }, sizeof(size_t));
		return 0;
	case F_STR:
		if (len >= f->size)
			return MFA_ERR_CORRUPT;
		for (size_t b = 0; b < len; b++)
			if (v[b] < 0x20 || v[b] == 0x7f)
				return MFA_ERR_CORRUPT;
		memcpy(base + f->offset, v, len);
		base[f->offset + len] = '\0';
		return 0;
	}
	return MFA_ERR_CORRUPT;
}

/* The identifier kind must suit the profile, with bytes exactly when the kind has them. */
static bool card_id_valid(const struct mfa_card_factor *c)
{
	switch (c->id_kind) {
	case MFA_CARD_ID_LEGACY:
		return c->id_len == 0;
	case MFA_CARD_ID_CERT:
		return c->profile == MFA_CARD_JPKI && c->id_len > 0;
	case MFA_CARD_ID_CHUID:
		return c->profile == MFA_CARD_PIV && c->id_len > 0;
	case MFA_CARD_ID_SPKI:
		return c->profile == MFA_CARD_PIV && c->id_len == 0;
	default:
		return false;
	}
}

/* Ranges a well-formed record keeps; anything else is corrupt. */
static int validate(const struct mfa_record *rec)
{
	const struct mfa_totp_factor *t = &rec->totp;
	const struct mfa_card_factor *c = &rec->card;

	/* 80 bits is the least any TOTP app issues (Google Authenticator's default). */
	if (t->present &&
	    (t->secret_len < 10 || (t->digits != 6 && t->digits != 8) || t->alg < MFA_ALG_SHA1 ||
	        t->alg > MFA_ALG_SHA512 || (t->period != 30 && t->period != 60)))
		return MFA_ERR_CORRUPT;
	if (c->present &&
	    (c->profile < MFA_CARD_JPKI || c->profile > MFA_CARD_PIV || !card_id_valid(c)))
		return MFA_ERR_CORRUPT;
	if (rec->recovery.present && rec->recovery.iterations == 0)
		return MFA_ERR_CORRUPT;
	return 0;
}

int mfa_record_decode(const uint8_t *p, size_t len, struct mfa_record *rec)
{
	struct mfa_reader r = mfa_reader_init(p, len);
	bool seen[NFIELDS] = { false };
	uint8_t *base = (uint8_t *)rec;
	int rc;

	memset(rec, 0, sizeof(*rec));
	while (r.len > 0) {
		uint16_t tag, flen;
		const uint8_t *v;
		const struct field_desc *f;
		size_t idx = 0;

		if (mfa_get_u16(&r, &tag) != 0 || mfa_get_u16(&r, &flen) != 0 ||
		    mfa_get_view(&r, flen, &v) != 0)
			goto corrupt;
		if ((f = find_field(tag, &idx)) == NULL) {
			if (tag & TAG_OPTIONAL)
				continue; /* a newer optional field: skip it */
			goto corrupt;
		}
		if (seen[idx])
			goto corrupt;
		seen[idx] = true;
		if (decode_value(base, f, v, flen) != 0)
			goto corrupt;
	}
	/*
	 * A group is all or nothing: every required field of a present group
	 * must be there; an optional one may be missing (an older record).
	 */
	for (size_t i = 0; i < NFIELDS; i++)
		if (seen[i])
			set_group_present(rec, fields[i].group);
	for (size_t i = 0; i < NFIELDS; i++)
		if (group_present(rec, fields[i].group) != seen[i] &&
		    !(!seen[i] && is_optional(&fields[i])))
			goto corrupt;
	if ((rc = validate(rec)) != 0)
		goto fail;
	return 0;
corrupt:
	rc = MFA_ERR_CORRUPT;
fail:
	mfa_record_wipe(rec);
	return rc;
}

/* magic || version || key id || u16 name length || name */
static int record_aad(struct mfa_buf *aad, uint8_t version, const uint8_t *keyid, const char *user)
{
	size_t ulen = strlen(user);
	if (ulen > UINT16_MAX)
		return MFA_ERR_RANGE;
	mfa_put_bytes(aad, MFA_RECORD_MAGIC, 4);
	mfa_put_u8(aad, version);
	mfa_put_bytes(aad, keyid, MFA_KEYID_LEN);
	mfa_put_u16(aad, (uint16_t)ulen);
	mfa_put_bytes(aad, user, ulen);
	return mfa_buf_error(aad);
}

#define RECORD_HEADER_LEN (4 + 1 + MFA_KEYID_LEN)

int mfa_record_seal(const struct mfa_key *key, const char *user, const struct mfa_record *rec,
    struct mfa_buf *file)
{
	struct mfa_buf pt, aad;
	uint8_t *sealed;
	int rc;

	mfa_buf_init(&pt);
	mfa_buf_init(&aad);
	if ((rc = mfa_record_encode(rec, &pt)) != 0 ||
	    (rc = record_aad(&aad, MFA_RECORD_VERSION, key->id, user)) != 0)
		goto out;
	/* The header is the AAD without the user name. */
	mfa_put_bytes(file, aad.data, RECORD_HEADER_LEN);
	if ((sealed = mfa_put_zeros(file, pt.len + MFA_SEAL_OVERHEAD)) == NULL) {
		rc = mfa_buf_error(file);
		goto out;
	}
	rc = mfa_seal(key, aad.data, aad.len, pt.data, pt.len, sealed);
out:
	mfa_buf_free(&pt);
	mfa_buf_free(&aad);
	return rc;
}

int mfa_record_unseal(const struct mfa_key *key, const char *user, const uint8_t *file, size_t len,
    struct mfa_record *rec)
{
	struct mfa_buf aad, pt;
	uint8_t *plain;
	size_t ptlen;
	int rc;

	memset(rec, 0, sizeof(*rec));
	if (len < RECORD_HEADER_LEN + MFA_SEAL_OVERHEAD || len > MFA_RECORD_MAX ||
	    memcmp(file, MFA_RECORD_MAGIC, 4) != 0)
		return MFA_ERR_CORRUPT;
	if (file[4] != MFA_RECORD_VERSION)
		return MFA_ERR_VERSION;
	if (memcmp(file + 5, key->id, MFA_KEYID_LEN) != 0)
		return MFA_ERR_KEYID;
	mfa_buf_init(&aad);
	mfa_buf_init(&pt);
	ptlen = len - RECORD_HEADER_LEN - MFA_SEAL_OVERHEAD;
	if ((rc = record_aad(&aad, file[4], file + 5, user)) != 0)
		goto out;
	/* +1: never a zero-size buffer for an empty record */
	if ((plain = mfa_put_zeros(&pt, ptlen + 1)) == NULL) {
		rc = mfa_buf_error(&pt);
		goto out;
	}
	rc = mfa_unseal(key, aad.data, aad.len, file + RECORD_HEADER_LEN, len - RECORD_HEADER_LEN,
	    plain);
	if (rc == 0)
		rc = mfa_record_decode(plain, ptlen, rec);
out:
	mfa_buf_free(&aad);
	mfa_buf_free(&pt);
	return rc;
}

const uint8_t *mfa_record_keyid(const uint8_t *file, size_t len)
{
	if (len < RECORD_HEADER_LEN || memcmp(file, MFA_RECORD_MAGIC, 4) != 0)
		return NULL;
	return file + 5;
}

void mfa_record_wipe(struct mfa_record *rec)
{
	mfa_wipe(rec, sizeof(*rec));
}

bool mfa_record_enrolled(const struct mfa_record *rec)
{
	return rec->totp.present || rec->card.present || rec->recovery.present;
}
