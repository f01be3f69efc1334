#!/usr/bin/env bash
# The man pages: each one renders without a single warning (man --warnings
# and groff -ww), and none can drift from the code unnoticed:
#  - every command and option of `mfauth --help` is in mfauth(8), and every
#    command mfauth(8) describes is in --help;
#  - every key of the config parser's table (lib/conf.c) is in
#    mfauth.conf(5), pam_mfauth(8) and the sample config, and every key those
#    document is in the table;
#  - every audit event the module and the tool emit is in their page;
#  - the sample config, uncommented, is accepted by the parser.
set -uo pipefail

src=${MFAUTH_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${MFAUTH_BUILDDIR:?set MFAUTH_BUILDDIR}
doc=$src/doc
pages="pam_mfauth.8 mfauth.8 mfauth.conf.5 mfauth-verify.8"

T=$(mktemp -d /tmp/mfauth-man.XXXXXX)
trap 'rm -rf "$T"' EXIT
. "${MFAUTH_SRCDIR:-$(dirname "$0")/../..}/tests/checks.sh"

if ! command -v groff >/dev/null 2>&1; then
	echo "SKIP: groff is not installed (apt-get install groff-base man-db)"
	exit 77
fi

# Plain text of a page's source: escapes that split words undone, so that
# "\-\-digits" is found as "--digits" and "\fBx\fR" as "x".
text_of() {
	sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\(aq/'"'"'/g' -e 's/\\(dq/"/g' \
		-e 's/\\&//g' -e 's/\\c$//' -e 's/\\e/\\/g' "$doc/$1"
}

# --- rendering ------------------------------------------------------------------
for p in $pages; do
	if [ ! -r "$doc/$p" ]; then
		fail "$p: missing"
		continue
	fi
	if command -v man >/dev/null 2>&1; then
		if LC_ALL=C.UTF-8 MANWIDTH=80 MAN_KEEP_FORMATTING= man --warnings -l "$doc/$p" \
			>"$T/out" 2>"$T/err" && [ ! -s "$T/err" ] && [ -s "$T/out" ]; then
			ok
		else
			fail "$p: man --warnings -l:"
			sed 's/^/    /' "$T/err"
		fi
	fi
	if LC_ALL=C.UTF-8 groff -ww -b -man -z "$doc/$p" 2>"$T/err" && [ ! -s "$T/err" ]; then
		ok
	else
		fail "$p: groff -ww -man:"
		sed 's/^/    /' "$T/err"
	fi
	# An unescaped '-' in an option renders as a hyphen, which breaks copy and search.
	if grep -nE '^[^.\\].*(^|[ (])--?[a-z]' "$doc/$p" >"$T/err" ||
		grep -nE '^\.[A-Z]+ .*(^|[ "(])--?[a-z]' "$doc/$p" >>"$T/err"; then
		fail "$p: unescaped '-' in an option (write \\-):"
		sed 's/^/    /' "$T/err"
	else
		ok
	fi
done

# --- mfauth --help <-> mfauth(8) ------------------------------------------------------
man8=$(text_of mfauth.8)
if ! LC_ALL=C "$build/tools/mfauth" --help >"$T/help"; then
	fail "mfauth --help exits non-zero"
fi
# "  mfauth enroll totp USER ..." -> "enroll totp"; "  mfauth init" -> "init"
sed -n 's/^  mfauth \([a-z][a-z-]*\)\( \([a-z][a-z]*\)\)\{0,1\}\b.*/\1 \3/p' "$T/help" |
	while read -r cmd sub; do
		case $sub in '' | totp | card | csv | pskc) ;; *) sub= ;; esac
		echo "$cmd${sub:+ $sub}"
	done | sort -u >"$T/commands"
[ "$(wc -l <"$T/commands")" -ge 10 ] || fail "fewer than 10 commands parsed from --help"
while read -r c; do
	if grep -qE "^\.SS \"?$c( |\"|$)" <<<"$man8"; then ok; else fail "mfauth(8): no section for command '$c'"; fi
	if grep -qF "mfauth $c" <<<"$man8"; then ok; else fail "mfauth(8): '$c' not in the synopsis"; fi
done <"$T/commands"
# Each option of --help, long and short.
grep -oE -- '(^|[ [])--?[a-zA-Z][a-z-]*' "$T/help" | sed 's/^[ [ ]*//' | sort -u >"$T/options"
while read -r o; do
	if grep -qF -- "$o" <<<"$man8"; then ok; else fail "mfauth(8): option '$o' of --help not documented"; fi
done <"$T/options"
# Reverse: every command section of the page is a real command.
sed -n '/^\.SH COMMANDS/,/^\.SH /s/^\.SS "\([a-z][a-z ]*[a-z]\).*/\1/p' <<<"$man8" |
	sed -e 's/ \\$//' -e 's/ [A-Z].*//' | while read -r c; do
	c=${c%% \\*}
	if grep -qxF "$c" "$T/commands"; then echo ok; else echo "fail mfauth(8) documents '$c', which --help does not list"; fi
done >"$T/rev"
while read -r r rest; do
	if [ "$r" = ok ]; then ok; else fail "$rest"; fi
done <"$T/rev"

# --- config keys: lib/conf.c <-> mfauth.conf(5), pam_mfauth(8), sample ----------------
sed -n 's/^[[:space:]]*{ "\([a-z_]*\)", KIND_.*/\1/p' "$src/lib/conf.c" | sort -u >"$T/keys"
[ "$(wc -l <"$T/keys")" -ge 10 ] || fail "fewer than 10 keys parsed from lib/conf.c"
conf5=$(text_of mfauth.conf.5)
pam8=$(text_of pam_mfauth.8)
while read -r k; do
	if grep -qE "^\.BI $k \" = \"" <<<"$conf5"; then ok; else fail "mfauth.conf(5): key '$k' not documented"; fi
	if grep -qE "^\.(BI|BR) \"?$k(=| \" or \" $k=)" <<<"$pam8"; then ok; else fail "pam_mfauth(8): argument '$k=' not documented"; fi
	if grep -qE "^#$k =" "$doc/mfauth.conf.sample"; then ok; else fail "mfauth.conf.sample: no '#$k =' line"; fi
done <"$T/keys"
{
	sed -n 's/^\.BI \([a-z_]*\) " = ".*/\1/p' <<<"$conf5"
	sed -n '/^\.SH OPTIONS/,/^\.SH /s/^\.\(BI\|BR\) "\{0,1\}\([a-z_][a-z_]*\)\(=\| " or "\).*/\2/p' <<<"$pam8" | grep -vx conf
	sed -n 's/^#\([a-z_]*\) =.*/\1/p' "$doc/mfauth.conf.sample"
} | sort -u | while read -r k; do
	if grep -qxF "$k" "$T/keys"; then echo ok; else echo "fail key '$k' is documented but the parser does not know it"; fi
done >"$T/rev"
while read -r r rest; do
	if [ "$r" = ok ]; then ok; else fail "$rest"; fi
done <"$T/rev"

# Defaults: each "default N" in mfauth.conf(5) matches the sample's "#key = N".
while read -r k; do
	d=$(sed -n "s/^#$k = *//p" "$doc/mfauth.conf.sample")
	block=$(sed -n "/^\.BI $k \" = \"/,/^\.TP\$/p" <<<"$conf5")
	if [ -z "$d" ] || grep -qE "^Default:\$|efault:? *$|^\\.BR? $d( |\$)|^\\.BR? $d( \\.|,)" <<<"$block" ||
		grep -qF "$d" <<<"$block"; then
		ok
	else
		fail "mfauth.conf(5) and the sample disagree on the default of '$k' (sample: $d)"
	fi
done <"$T/keys"

# --- audit events ----------------------------------------------------------------------
# The module's lines (pam_module/), the helper's (helper/) and the ones both
# write through lib/audit_login.c (the lock, recovery_used, the verdicts).
grep -ohE '(audit_line\((l|&l)|verify_audit\((v|&v)|mfa_audit_login(_fields)?\(who), "[a-z_]+"' \
	"$src"/pam_module/*.c "$src"/helper/*.c "$src"/lib/audit_login.c | sed 's/.*"\(.*\)"/\1/' |
	sort -u >"$T/mod-events"
grep -ohE 'cli_audit\(c, "[a-z_]+"' "$src"/tools/*.c | sed 's/.*"\(.*\)"/\1/' | sort -u >"$T/cli-events"
[ -s "$T/mod-events" ] && [ -s "$T/cli-events" ] || fail "no audit events found in the sources"
while read -r e; do
	if grep -qE "event=$e( |\$)" <<<"$pam8"; then ok; else fail "pam_mfauth(8): audit event '$e' not documented"; fi
done <"$T/mod-events"
while read -r e; do
	if sed -n '/^\.SH AUDIT/,/^\.SH /p' <<<"$man8" | grep -qxE "\.B $e"; then ok; else
		fail "mfauth(8): audit event '$e' not documented"
	fi
done <"$T/cli-events"

# --- the sample, uncommented, is a valid config ---------------------------------
if [ "$(id -u)" -eq 0 ]; then
	sed -n 's/^#\([a-z_]* =.*\)/\1/p' "$doc/mfauth.conf.sample" >"$T/mfauth.conf"
	chmod 600 "$T/mfauth.conf"
	"$build/tools/mfauth" -c "$T/mfauth.conf" check --json --pam-dir "$T" >"$T/check" 2>&1
	if grep -q '"check":"config","severity":"ok"' "$T/check"; then ok; else
		fail "the sample config, uncommented, is refused:"
		grep '"config"' "$T/check" | sed 's/^/    /'
	fi
fi

summary
