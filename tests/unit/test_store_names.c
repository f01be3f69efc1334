/*
 * Unit tests for lib/store_names.c (doc/DESIGN.md invariant 5): a user name can never
 * name a path outside the store, and two names never share a file.
 *
 * mfa_name_check() refuses empty, ".", "..", '/', control characters
 * (C0, DEL, C1), invalid or overlong UTF-8 and names over MFA_USER_MAX
 * bytes.  mfa_name_encode() is injective, its output never starts with '.'
 * and never contains '/'; mfa_name_decode() is its exact inverse and refuses
 * every stem that encode would not produce.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mfauth/err.h"
#include "mfauth/store.h"

/* A malloc'd string of n copies of unit (a UTF-8 sequence), then tail. */
static char *repeat(const char *unit, size_t n, const char *tail)
{
	size_t ul = strlen(unit), tl = strlen(tail);
	char *s = malloc(ul * n + tl + 1);

	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		memcpy(s + i * ul, unit, ul);
	memcpy(s + ul * n, tail, tl + 1);
	return s;
}

/* Names given either literally or built (long ones). */
struct name_case {
	const char *label;
	const char *lit; /* NULL: built by build_name() */
	int built;
};

enum { B_256_A = 1, B_257_A, B_5000_A, B_256_CJK, B_257_CJK, B_255_THEN_2BYTE };

static char *build_name(int which)
{
	switch (which) {
	case B_256_A:
		return repeat("a", 256, "");
	case B_257_A:
		return repeat("a", 257, "");
	case B_5000_A:
		return repeat("x", 5000, "");
	/* 85 three-byte characters and one ASCII byte: exactly 256 bytes. */
	case B_256_CJK:
		return repeat("\xe7\x94\xb0", 85, "%");
	case B_257_CJK:
		return repeat("\xe7\x94\xb0", 85, "ab");
	/* 255 bytes, then a 2-byte character: 257 bytes, each part valid. */
	case B_255_THEN_2BYTE:
		return repeat("a", 255, "\xc3\xa9");
	}
	fail_msg("no such built name %d", which);
	return NULL;
}

static char *case_name(const struct name_case *c)
{
	if (c->lit != NULL) {
		char *s = strdup(c->lit);
		assert_non_null(s);
		return s;
	}
	return build_name(c->built);
}

/* clang-format off */
static const struct name_case refused[] = {
	{ "empty", "", 0 },
	{ "dot", ".", 0 },
	{ "dot dot", "..", 0 },
	{ "slash inside", "a/b", 0 },
	{ "parent path", "../x", 0 },
	{ "slash", "/", 0 },
	{ "trailing slash", "alice/", 0 },
	{ "absolute", "/etc/passwd", 0 },
	{ "newline", "x\n", 0 },
	{ "carriage return", "alice\r", 0 },
	{ "tab", "a\tb", 0 },
	{ "escape", "\x1b[31m", 0 },
	{ "DEL", "\x7f", 0 },
	{ "DEL inside", "al\x7f" "ice", 0 },
	{ "SOH", "\x01", 0 },
	{ "unit separator", "a\x1f", 0 },
	{ "lone continuation 0x80", "\x80", 0 },
	{ "continuation after ASCII", "a\xbf", 0 },
	{ "overlong slash C0 AF", "\xc0\xaf", 0 },
	{ "overlong C1 BF", "\xc1\xbf", 0 },
	{ "overlong 3-byte E0 80 AF", "\xe0\x80\xaf", 0 },
	{ "overlong 4-byte F0 80 80 AF", "\xf0\x80\x80\xaf", 0 },
	{ "surrogate ED A0 80", "\xed\xa0\x80", 0 },
	{ "surrogate ED BF BF", "\xed\xbf\xbf", 0 },
	{ "past U+10FFFF F4 90 80 80", "\xf4\x90\x80\x80", 0 },
	{ "F5 lead", "\xf5\x80\x80\x80", 0 },
	{ "FE", "\xfe", 0 },
	{ "FF", "a\xff", 0 },
	{ "truncated 3-byte", "\xe7\x94", 0 },
	{ "truncated 4-byte", "\xf0\x9f\x98", 0 },
	{ "truncated at end", "ok\xc3", 0 },
	{ "lead then ASCII", "\xc3" "a", 0 },
	{ "C1 U+0085 NEL", "\xc2\x85", 0 },
	{ "C1 U+0080", "\xc2\x80", 0 },
	{ "C1 U+009F", "\xc2\x9f", 0 },
	{ "C1 U+009B CSI", "a\xc2\x9b" "b", 0 },
	{ "257 bytes", NULL, B_257_A },
	{ "5000 bytes", NULL, B_5000_A },
	{ "257 bytes of CJK", NULL, B_257_CJK },
	{ "257 bytes ending in a 2-byte char", NULL, B_255_THEN_2BYTE },
};
/* clang-format on */

/* clang-format off */
static const struct name_case accepted[] = {
	{ "plain", "alice", 0 },
	{ "dot inside", "a.b", 0 },
	{ "leading dot", ".hidden", 0 },
	{ "three dots", "...", 0 },
	{ "dot dot prefix", "..a", 0 },
	{ "trailing dot", "a.", 0 },
	{ "kerberos style", "user@EXAMPLE.COM", 0 },
	{ "kanji", "\xe7\x94\xb0\xe4\xb8\xad", 0 },
	{ "space", "a b", 0 },
	{ "percent", "a%b", 0 },
	{ "percent escape lookalike", "a%2Fb", 0 },
	{ "only percent", "%", 0 },
	{ "percent 25", "%25", 0 },
	{ "percent 2E x", "%2Ex", 0 },
	{ "dot x", ".x", 0 },
	{ "backslash", "DOMAIN\\user", 0 },
	{ "dash", "-", 0 },
	{ "underscore", "_", 0 },
	{ "digits", "1000", 0 },
	{ "NBSP U+00A0", "\xc2\xa0", 0 },
	{ "U+D7FF", "\xed\x9f\xbf", 0 },
	{ "U+E000", "\xee\x80\x80", 0 },
	{ "U+FFFD", "\xef\xbf\xbd", 0 },
	{ "emoji U+1F600", "\xf0\x9f\x98\x80", 0 },
	{ "U+10FFFF", "\xf4\x8f\xbf\xbf", 0 },
	{ "256 bytes", NULL, B_256_A },
	{ "256 bytes of CJK", NULL, B_256_CJK },
};
/* clang-format on */

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_check_refused(void **state)
{
	int bad = 0;

	(void)state;
	assert_int_equal(mfa_name_check(NULL), MFA_ERR_BADNAME);
	for (size_t i = 0; i < N(refused); i++) {
		char *name = case_name(&refused[i]);
		int rc = mfa_name_check(name);
		if (rc != MFA_ERR_BADNAME) {
			print_error("refused case \"%s\": got %d\n", refused[i].label, rc);
			bad++;
		}
		free(name);
	}
	assert_int_equal(bad, 0);
}

static void test_check_accepted(void **state)
{
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < N(accepted); i++) {
		char *name = case_name(&accepted[i]);
		int rc = mfa_name_check(name);
		if (rc != 0) {
			print_error("accepted case \"%s\": got %d\n", accepted[i].label, rc);
			bad++;
		}
		free(name);
	}
	assert_int_equal(bad, 0);
}

/* Encode refuses what check refuses, and writes nothing but a clean result. */
static void test_encode_refused(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(refused); i++) {
		char *name = case_name(&refused[i]);
		char out[MFA_NAME_ENC_MAX];
		if (mfa_name_encode(name, out, sizeof(out)) != MFA_ERR_BADNAME)
			fail_msg("encode accepted refused case \"%s\"", refused[i].label);
		free(name);
	}
}

static int stem_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '_' || c == '-' || c == '@' || c == '.' || c == '%';
}

static int is_upper_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

/* The properties store_names.c promises, for every accepted name. */
static void test_encode_properties(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(accepted); i++) {
		char *name = case_name(&accepted[i]);
		char enc[MFA_NAME_ENC_MAX], dec[MFA_USER_MAX + 1];
		size_t len;

		if (mfa_name_encode(name, enc, sizeof(enc)) != 0)
			fail_msg("encode refused \"%s\"", accepted[i].label);
		len = strlen(enc);
		assert_true(len > 0);
		assert_true(len < MFA_NAME_ENC_MAX);
		if (enc[0] == '.')
			fail_msg("\"%s\" encodes to a dot file: %s", accepted[i].label, enc);
		assert_null(strchr(enc, '/'));
		for (size_t j = 0; j < len; j++) {
			assert_true(stem_char_ok(enc[j]));
			if (enc[j] == '%') {
				assert_true(j + 2 < len);
				assert_true(is_upper_hex(enc[j + 1]) && is_upper_hex(enc[j + 2]));
			}
		}
		assert_int_not_equal(strcmp(enc, "."), 0);
		assert_int_not_equal(strcmp(enc, ".."), 0);
		if (mfa_name_decode(enc, dec, sizeof(dec)) != 0)
			fail_msg("\"%s\": decode(%s) failed", accepted[i].label, enc);
		assert_string_equal(dec, name);
		free(name);
	}
}

/* Known encodings, so the on-disk file names stay stable. */
static void test_encode_vectors(void **state)
{
	static const struct {
		const char *name, *enc;
		/* clang-format off */
	} v[] = {
		{ "alice", "alice" },
		{ "a.b", "a.b" },
		{ ".hidden", "%2Ehidden" },
		{ "...", "%2E.." },
		{ "user@EXAMPLE.COM", "user@EXAMPLE.COM" },
		{ "a b", "a%20b" },
		{ "%", "%25" },
		{ "a%2Fb", "a%252Fb" },
		{ "-_", "-_" },
		{ "\xe7\x94\xb0\xe4\xb8\xad", "%E7%94%B0%E4%B8%AD" },
		{ "DOMAIN\\user", "DOMAIN%5Cuser" },
	};
	/* clang-format on */

	(void)state;
	for (size_t i = 0; i < N(v); i++) {
		char enc[MFA_NAME_ENC_MAX];
		assert_int_equal(mfa_name_encode(v[i].name, enc, sizeof(enc)), 0);
		assert_string_equal(enc, v[i].enc);
	}
}

/* Pairwise distinct encodings over names built to collide. */
static void test_encode_injective(void **state)
{
	/* clang-format off */
	static const char *const tricky[] = {
		"a", "A", "%", "%25", "%2525", "25", ".x", "%2Ex", "%2ex", "x.", "x%2E",
		"a b", "a%20b", "a+b", "a%2Bb", "a%b", "a%2Fb", "a%2fb", "a_b", "a-b", "a@b",
		"a.b", "a%2Eb", "..x", ".", "%2E", "\xc3\xa9", "%C3%A9", "%c3%a9", "e\xcc\x81",
		"\xe7\x94\xb0", "%E7%94%B0", "@", "%40", "-", "%2D", "_", "%5F", ".-", "%2E-",
	};
	/* clang-format on */
	char enc[N(tricky)][MFA_NAME_ENC_MAX];
	int ok[N(tricky)];

	(void)state;
	for (size_t i = 0; i < N(tricky); i++) {
		ok[i] = mfa_name_encode(tricky[i], enc[i], sizeof(enc[i])) == 0;
		assert_int_equal(ok[i], mfa_name_check(tricky[i]) == 0);
	}
	for (size_t i = 0; i < N(tricky); i++)
		for (size_t j = i + 1; j < N(tricky); j++)
			if (ok[i] && ok[j] && strcmp(enc[i], enc[j]) == 0)
				fail_msg("\"%s\" and \"%s\" both encode to %s", tricky[i],
				    tricky[j], enc[i]);
}

/* Exhaustive over short names: every valid 1- and 2-byte name round-trips, none collide. */
static void test_encode_exhaustive_short(void **state)
{
	/* Every name of one or two bytes; each encoding is remembered in a hash table. */
	enum { TABLE = 1 << 18 };
	struct slot {
		char enc[8];
		uint16_t src;
		int used;
	} *table = calloc(TABLE, sizeof(*table));
	size_t checked = 0;

	(void)state;
	assert_non_null(table);
	for (unsigned v = 0; v < 0x10000; v++) {
		char name[3] = { (char)(v >> 8), (char)(v & 0xff), '\0' };
		char enc[MFA_NAME_ENC_MAX], dec[MFA_USER_MAX + 1];
		const char *n = name;
		uint32_t h = 2166136261u;
		size_t k;

		/* v < 256: the one-byte name v (second byte NUL). */
		if (v < 0x100) {
			name[0] = (char)v;
			name[1] = '\0';
		} else if ((v & 0xff) == 0) {
			continue;
		}
		if (mfa_name_check(n) != 0) {
			assert_int_equal(mfa_name_encode(n, enc, sizeof(enc)), MFA_ERR_BADNAME);
			continue;
		}
		assert_int_equal(mfa_name_encode(n, enc, sizeof(enc)), 0);
		assert_true(enc[0] != '.');
		assert_null(strchr(enc, '/'));
		assert_int_equal(mfa_name_decode(enc, dec, sizeof(dec)), 0);
		assert_string_equal(dec, n);
		assert_true(strlen(enc) < sizeof(table->enc));
		for (const char *c = enc; *c; c++)
			h = (h ^ (uint8_t)*c) * 16777619u;
		for (k = h % TABLE; table[k].used; k = (k + 1) % TABLE)
			if (strcmp(table[k].enc, enc) == 0)
				fail_msg("names %04x and %04x collide as %s", table[k].src, v, enc);
		strcpy(table[k].enc, enc);
		table[k].src = (uint16_t)v;
		table[k].used = 1;
		checked++;
	}
	/* 95 printable ASCII one-byte names at least, and many pairs. */
	assert_true(checked > 95 + 95 * 95);
	free(table);
}

/* A too-small output buffer is an error, never an overflow (exact-size heap buffers). */
static void test_encode_small_buffer(void **state)
{
	static const char *const names[] = { "alice", ".x", "\xe7\x94\xb0", "a b" };

	(void)state;
	for (size_t i = 0; i < N(names); i++) {
		char full[MFA_NAME_ENC_MAX];
		size_t need;

		assert_int_equal(mfa_name_encode(names[i], full, sizeof(full)), 0);
		need = strlen(full) + 1;
		for (size_t cap = 1; cap < need; cap++) {
			char *out = malloc(cap);
			assert_non_null(out);
			assert_int_not_equal(mfa_name_encode(names[i], out, cap), 0);
			free(out);
		}
		{
			char *out = malloc(need);
			assert_non_null(out);
			assert_int_equal(mfa_name_encode(names[i], out, need), 0);
			assert_string_equal(out, full);
			free(out);
		}
	}
	/* The worst case fits MFA_NAME_ENC_MAX exactly: 256 escaped bytes. */
	{
		char *name = build_name(B_256_CJK);
		char enc[MFA_NAME_ENC_MAX];
		assert_int_equal(mfa_name_encode(name, enc, sizeof(enc)), 0);
		assert_int_equal(strlen(enc), 3 * MFA_USER_MAX);
		free(name);
	}
}

/* Stems encode would never produce are refused, so each name has one file. */
static void test_decode_refused(void **state)
{
	static const struct {
		const char *label, *stem;
		/* clang-format off */
	} bad[] = {
		{ "empty", "" },
		{ "lower-case escape of '.'", "%2e" },
		{ "lower-case hex", "%e7%94%b0" },
		{ "mixed-case hex", "%E7%94%b0" },
		{ "escaped plain letter", "%41" },
		{ "escaped plain letter inside", "a%62c" },
		{ "escaped digit", "%30" },
		{ "escaped '-'", "%2D" },
		{ "escaped '_'", "%5F" },
		{ "escaped '@'", "%40" },
		{ "escaped '.' not leading", "a%2E" },
		{ "leading '.'", ".x" },
		{ "dot", "." },
		{ "dot dot", ".." },
		{ "lone percent", "%" },
		{ "one hex digit", "%4" },
		{ "one hex digit inside", "a%4" },
		{ "bad hex", "%G1" },
		{ "bad second hex", "%4G" },
		{ "percent percent", "%%" },
		{ "raw space", "a b" },
		{ "raw slash", "a/b" },
		{ "raw percent sign only", "%%41" },
		{ "raw non-ASCII", "\xe7\x94\xb0" },
		{ "raw control", "a\x01" },
		{ "decodes to slash", "a%2Fb" },
		{ "decodes to dot dot", "%2E%2E" },
		{ "decodes to dot", "%2E" },
		{ "decodes to newline", "x%0A" },
		{ "decodes to DEL", "%7F" },
		{ "decodes to invalid UTF-8", "%C0%AF" },
		{ "decodes to C1", "%C2%85" },
		{ "decodes to surrogate", "%ED%A0%80" },
		{ "decodes to lone continuation", "%80" },
		{ "decodes to NUL", "%00" },
		{ "NUL in the middle", "a%00b" },
		{ "NUL at the end", "alice%00" },
		{ "NUL then more", "alice%00%2F" },
	};
	/* clang-format on */
	int fails = 0;

	(void)state;
	for (size_t i = 0; i < N(bad); i++) {
		char out[MFA_USER_MAX + 1];
		int rc = mfa_name_decode(bad[i].stem, out, sizeof(out));
		if (rc != MFA_ERR_BADNAME) {
			print_error("decode accepted \"%s\" (%s): rc %d, name \"%s\"\n",
			    bad[i].label, bad[i].stem, rc, rc == 0 ? out : "");
			fails++;
		}
	}
	assert_int_equal(fails, 0);
}

/* A stem for a name over MFA_USER_MAX bytes, and a short output buffer. */
static void test_decode_limits(void **state)
{
	char *name256 = build_name(B_256_A), *stem257 = build_name(B_257_A);
	char *cjk = build_name(B_256_CJK);
	char enc[MFA_NAME_ENC_MAX], out[MFA_USER_MAX + 1];

	(void)state;
	assert_int_equal(mfa_name_decode(name256, out, sizeof(out)), 0);
	assert_string_equal(out, name256);
	assert_int_equal(mfa_name_decode(stem257, out, sizeof(out)), MFA_ERR_BADNAME);
	assert_int_equal(mfa_name_encode(cjk, enc, sizeof(enc)), 0);
	assert_int_equal(mfa_name_decode(enc, out, sizeof(out)), 0);
	assert_string_equal(out, cjk);
	/* Every output size short of the name is an error (exact-size buffers). */
	for (size_t cap = 1; cap <= 5; cap++) {
		char *o = malloc(cap);
		assert_non_null(o);
		assert_int_not_equal(mfa_name_decode("alice", o, cap), 0);
		free(o);
	}
	{
		char *o = malloc(6);
		assert_non_null(o);
		assert_int_equal(mfa_name_decode("alice", o, 6), 0);
		assert_string_equal(o, "alice");
		free(o);
	}
	free(name256);
	free(stem257);
	free(cjk);
}

/* decode then encode gives the stem back: the stem is canonical. */
static void test_decode_canonical(void **state)
{
	/* clang-format off */
	static const char *const stems[] = {
		"alice", "a.b", "%2Ehidden", "%25", "a%20b", "%E7%94%B0", "user@EXAMPLE.COM",
		"%2E..", "a%252Fb", "x%25%25", "%C2%A0",
	};
	/* clang-format on */

	(void)state;
	for (size_t i = 0; i < N(stems); i++) {
		char name[MFA_USER_MAX + 1], enc[MFA_NAME_ENC_MAX];
		assert_int_equal(mfa_name_decode(stems[i], name, sizeof(name)), 0);
		assert_int_equal(mfa_name_encode(name, enc, sizeof(enc)), 0);
		assert_string_equal(enc, stems[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_refused),
		cmocka_unit_test(test_check_accepted),
		cmocka_unit_test(test_encode_refused),
		cmocka_unit_test(test_encode_properties),
		cmocka_unit_test(test_encode_vectors),
		cmocka_unit_test(test_encode_injective),
		cmocka_unit_test(test_encode_exhaustive_short),
		cmocka_unit_test(test_encode_small_buffer),
		cmocka_unit_test(test_decode_refused),
		cmocka_unit_test(test_decode_limits),
		cmocka_unit_test(test_decode_canonical),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
