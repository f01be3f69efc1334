#!/bin/sh
# make check: a 200-user smoke run of the benchmark, so that it keeps working.
# Asserts that mfauth, pam_oath and pam_google_authenticator each accept every
# valid code and refuse every wrong one, in both shapes; prints
# "N passed, N failed" and fails if any check failed.  See bench/README.md.
set -eu
srcdir=${MFAUTH_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
exec "$srcdir/bench/run.sh" --smoke --builddir "${MFAUTH_BUILDDIR:-.}"
