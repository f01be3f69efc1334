#!/bin/sh
# make check: replay every fuzz target's committed corpus through its
# replayer (built with the normal compiler, under sanitizers in CI).
set -eu
src=${MFAUTH_SRCDIR:-$(dirname "$0")/..}
build=${MFAUTH_BUILDDIR:-.}
passed=0
failed=0
for target in config record card base32 pskc csv helper_proto report_parse; do
	if "$build/fuzz/fuzz_${target}_replay" "$src/fuzz/corpus/$target"; then
		passed=$((passed + 1))
	else
		echo "FAIL: fuzz corpus $target"
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
