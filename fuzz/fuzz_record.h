/*
 * The fixed key and user shared by fuzz_record.c and gen_record_corpus.c, so
 * that seed records sealed by the generator authenticate inside the fuzzer
 * and the mutations reach the plaintext decoder.  A test key, never a real one.
 */
#ifndef MFAUTH_FUZZ_RECORD_H
#define MFAUTH_FUZZ_RECORD_H

#include <stdint.h>

#include "mfauth/seal.h"

#define FUZZ_RECORD_USER "alice"

/* clang-format off */
static const uint8_t fuzz_record_key[MFA_KEY_LEN] = {
	0x6d, 0x66, 0x61, 0x75, 0x74, 0x68, 0x2d, 0x66,   /* "mfauth-fuzz-key-" */
	0x75, 0x7a, 0x7a, 0x2d, 0x6b, 0x65, 0x79, 0x2d,
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
	0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
};
/* clang-format on */

#endif
