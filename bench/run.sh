#!/usr/bin/env bash
# mfauth against pam_oath and pam_google_authenticator, in one run.
#
#   bench/run.sh [--sizes "1000 10000 100000"] [--runs 5] [--logins 200]
#                [--exec-logins N] [--strace-logins 20] [--results DIR]
#                [--fsync-files 2000] [--builddir DIR] [--keep]
#   bench/run.sh --smoke [--builddir DIR]      (what `make check` runs)
#
# For each number of users N it enrolls the same random seeds in the three
# modules (mfauth by bulk import; pam_oath in one usersfile; google-
# authenticator in one file per user, `secret=DIR/${USER} user=root`), then
# runs --runs rounds.  Each round measures, for both shapes (logins in one
# long-lived process; one process per login) and with the modules taking
# turns in a rotating order: successful logins, failed logins and the floor
# (pam_permit.so plus one in-place 512-byte write + fdatasync on the same
# file system).  Then syscalls and fsyncs per login under strace -c.  Last,
# bench/fsync_locality: what one durable rewrite costs on the same file (the
# floor's), on a different file each time (a login's) and on a different
# block of one file.
# Everything runs under bench/sink, a private /dev/log that is drained as
# fast as the modules log.
#
# Results go to DIR (default: bench/results next to this script): results.md
# (the tables and the machine), login-time.png (the plot), raw.tsv (every
# batch), strace.tsv, plot-*.dat.
# Smoke mode (200 users, 1 round, a few logins) writes to a temporary
# directory, asserts that every module accepted every valid code and refused
# every wrong one, and ends with "N passed, N failed".
#
# Needs root (a root-owned store; the sink's mount namespace), oathtool,
# strace, libpam-oath, libpam-google-authenticator, gnuplot (for the plot),
# a built tree (BUILDDIR: pam_module/.libs/pam_mfauth.so, tools/mfauth).
# The driver and the sink are taken from BUILDDIR/bench when built there,
# else compiled here with cc.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
srcdir=$(cd "$here/.." && pwd)

sizes="1000 10000 100000"
runs=5
logins=200
exec_logins=
strace_logins=20
fsync_files=2000
results=
builddir=${MFAUTH_BUILDDIR:-}
smoke=0
keep=0
inner=0
work=

die() {
	echo "run.sh: $*" >&2
	# The smoke test's count (scripts/count-tests) sees a failure, not silence.
	if [ "$smoke" = 1 ] && [ "$inner" = 0 ]; then
		echo "0 passed, 1 failed"
	fi
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--sizes) sizes=$2; shift ;;
	--runs) runs=$2; shift ;;
	--logins) logins=$2; shift ;;
	--exec-logins) exec_logins=$2; shift ;;
	--strace-logins) strace_logins=$2; shift ;;
	--fsync-files) fsync_files=$2; shift ;;
	--results) results=$2; shift ;;
	--builddir) builddir=$2; shift ;;
	--smoke) smoke=1 ;;
	--keep) keep=1 ;;
	--inner) inner=1; work=$2; shift ;;
	*) die "unknown argument '$1' (see the comment at the top)" ;;
	esac
	shift
done

if [ "$smoke" = 1 ]; then
	sizes=200
	runs=1
	logins=60
	exec_logins=10
	strace_logins=4
	fsync_files=50
fi
exec_logins=${exec_logins:-$logins}
for v in "$runs" "$logins" "$exec_logins" "$strace_logins" "$fsync_files" $sizes; do
	case $v in '' | *[!0-9]*) die "not a positive number: '$v'" ;; esac
	[ "$v" -gt 0 ] || die "not a positive number: '$v'"
done

[ -n "$builddir" ] || builddir=$srcdir
abs=$(cd "$builddir" 2>/dev/null && pwd) || die "no build directory: $builddir"
builddir=$abs
module=$builddir/pam_module/.libs/pam_mfauth.so
mfauth=$builddir/tools/mfauth
pamdir=/lib/x86_64-linux-gnu/security
[ -d "$pamdir" ] || pamdir=$(dirname "$(find /lib* /usr/lib* -name pam_permit.so -print -quit)")

# ---------------------------------------------------------------- helpers

now_step() {
	echo $(($(date +%s) / 30))
}

# The N users: "NAME HEXSEED BASE32SEED", 20 random bytes each.
make_seeds() {
	local n=$1
	head -c $((n * 20)) /dev/urandom | od -An -v -tx1 -w20 | awk -v n="$n" '
	BEGIN {
		alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
		for (i = 0; i < 256; i++) val[sprintf("%02x", i)] = i
	}
	NF == 20 && NR <= n {
		hex = ""; b32 = ""
		for (i = 1; i <= 20; i++) hex = hex $i
		# 5 bytes (40 bits) make 8 base32 characters; awk numbers hold 53 bits.
		for (g = 0; g < 4; g++) {
			v = 0
			for (i = 1; i <= 5; i++) v = v * 256 + val[$(g * 5 + i)]
			chunk = ""
			for (i = 0; i < 8; i++) {
				chunk = substr(alpha, v % 32 + 1, 1) chunk
				v = int(v / 32)
			}
			b32 = b32 chunk
		}
		printf "u%06d %s %s\n", NR, hex, b32
	}'
}

# Enroll the seeds in mfauth by bulk import; prints the seconds it took.
enroll_mfauth() {
	local dir=$1 t0 t1
	t0=$(date +%s.%N)
	awk '{ print $1 "," $3 }' "$dir/seeds.txt" |
		"$mfauth" -c "$dir/mfauth.conf" import csv >"$dir/import.out" 2>&1 ||
		{ tail -n 5 "$dir/import.out" >&2; die "mfauth import csv failed"; }
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\tmfauth import csv", b - a }'
}

# Set up the three modules and the floor for N users in $work/nN.
setup_size() {
	local n=$1 dir=$work/n$1 enr
	mkdir -m 0700 "$dir" "$dir/pam.d" "$dir/ga"
	make_seeds "$n" >"$dir/seeds.txt"
	[ "$(wc -l <"$dir/seeds.txt")" -eq "$n" ] || die "seed generation failed"

	printf 'store_dir = %s/store\nkey_file = %s/store.key\n' "$dir" "$dir" >"$dir/mfauth.conf"
	chmod 0600 "$dir/mfauth.conf"
	"$mfauth" -c "$dir/mfauth.conf" init >/dev/null
	enr=$(enroll_mfauth "$dir")
	printf '%s\t%s\n' "$n" "$enr" >>"$work/enroll.tsv"

	# pam_oath: one usersfile; google-authenticator: one 0400 root file per user.
	(umask 0077 && awk '{ print "HOTP/T30 " $1 " - " $2 }' "$dir/seeds.txt" >"$dir/users.oath")
	(umask 0277 && awk -v d="$dir/ga" '{
		f = d "/" $1
		print $3 > f
		print "\" TOTP_AUTH" > f
		print "\" DISALLOW_REUSE" > f
		close(f)
	}' "$dir/seeds.txt")
	head -c 512 /dev/zero >"$dir/floor.dat"

	echo "auth required $module conf=$dir/mfauth.conf" >"$dir/pam.d/mfauth"
	echo "auth required $pamdir/pam_oath.so usersfile=$dir/users.oath window=1 digits=6" \
		>"$dir/pam.d/oath"
	echo "auth required $pamdir/pam_google_authenticator.so secret=$dir/ga/\${USER} user=root" \
		>"$dir/pam.d/ga"
	echo "auth required $pamdir/pam_permit.so" >"$dir/pam.d/floor"
	# Without "other", libpam logs a complaint on every pam_start.
	echo "auth required $pamdir/pam_deny.so" >"$dir/pam.d/other"
}

# Pairs "USER CODE" for seeds lines FIRST..FIRST+COUNT-1 (0-based): the code of
# step now+OFFSET (KIND ok), or a code valid in none of steps now-1..now+2 (bad).
# Sets pairs_step to the step the codes were computed at.
make_pairs() {
	local dir=$1 first=$2 count=$3 kind=$4 offset=$5 out=$6 t
	t=$(now_step)
	pairs_step=$t
	sed -n "$((first + 1)),$((first + count))p" "$dir/seeds.txt" |
		while read -r user _ b32; do
			# Four codes: steps t-1, t, t+1, t+2 (computed by oathtool, not by us).
			mapfile -t c < <(oathtool --totp -b -w 3 -N "@$(((t - 1) * 30))" "$b32")
			[ ${#c[@]} -eq 4 ] || die "oathtool failed"
			if [ "$kind" = ok ]; then
				echo "$user ${c[1 + offset]}"
			else
				w=$(((10#${c[1]} + 500009) % 1000000))
				while printf '%s\n' "${c[@]}" | grep -qx "$(printf %06d "$w")"; do
					w=$(((w + 1) % 1000000))
				done
				printf '%s %06d\n' "$user" "$w"
			fi
		done >"$out"
	[ "$(wc -l <"$out")" -eq "$count" ] || die "could not make pairs"
}

# Read once what the batch's logins will read: every module's files are in the
# page cache when its batch starts.  (This machine's hypervisor takes page
# cache back within a minute -- 230 MB of a 300 MB file gone in 45 s -- so
# without this a module would be measured warm or cold by how long ago its
# files were written: mfauth's, enrolled first, were the coldest.)
#   warm_files DIR MODULE PAIRS
warm_files() {
	local dir=$1 mod=$2 pairs=$3
	case $mod in
	mfauth) awk -v d="$dir/store" '{ print d "/" $1 ".rec"; print d "/" $1 ".state" }' "$pairs" ;;
	ga) awk -v d="$dir/ga" '{ print d "/" $1 }' "$pairs" ;;
	oath) echo "$dir/users.oath" ;;
	floor) echo "$dir/floor.dat" ;;
	esac | xargs -r cat >/dev/null
}

# One driver batch; appends to raw.tsv, counts the check.
#   batch N RUN SHAPE KIND MODULE PAIRS
batch() {
	local n=$1 run=$2 shape=$3 kind=$4 mod=$5 pairs=$6 dir=$work/n$1 out rc=0
	local expect=success floor=()
	[ "$kind" = fail ] && expect=fail
	[ "$mod" = floor ] && floor=(--floor-file "$dir/floor.dat")
	warm_files "$dir" "$mod" "$pairs"
	# Every batch starts with nothing dirty: no module pays for another's writeback.
	sync
	out=$("$bin/driver" --confdir "$dir/pam.d" --service "$mod" --pairs "$pairs" \
		--mode "$shape" --expect "$expect" --label "$mod" "${floor[@]}") || rc=$?
	if [ "$rc" -ne 0 ] || [ -z "$out" ]; then
		echo "FAIL: N=$n run $run $shape $kind $mod: not every login was ${expect/fail/refused}" \
			"(driver exit $rc)" >&2
		echo "$n $run $shape $kind $mod FAIL" >>"$work/checks"
		[ "$rc" -eq 1 ] || return 0
	else
		echo "$n $run $shape $kind $mod ok" >>"$work/checks"
	fi
	[ -n "$out" ] || return 0
	echo "$out" | awk -v n="$n" -v run="$run" -v shape="$shape" -v kind="$kind" -v mod="$mod" '
	{
		for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
		printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", n, run, shape, kind, mod,
		    f["median_us"], f["p90_us"], f["mean_us"], f["maxrss_kb"], f["logins"], f["unexpected"]
	}' >>"$work/raw.tsv"
}

# The modules in the order of round R: each goes first once every four rounds.
rotation() {
	local r=$1 mods=(mfauth oath ga floor) i
	for i in 0 1 2 3; do
		printf '%s ' "${mods[$(((i + r) % 4))]}"
	done
}

# Successful logins, then failed ones, for one shape of one round.
#   measure_shape N RUN SHAPE COUNT OFFSET
# Users: round r uses seeds [r*COUNT, (r+1)*COUNT), first with valid codes,
# then with wrong ones, so both outcomes meet the same users in the same state
# (a user's first login after enrollment costs more at 100,000 users: caches).
# Each user logs in successfully at most once per shape and fails at most
# once per shape (under mfauth's default deny = 5); the exec shape uses
# next-step codes (OFFSET 1), so a user's second success is always a strictly
# later step than the first (the replay rules of mfauth and google-auth).
measure_shape() {
	local n=$1 run=$2 shape=$3 count=$4 offset=$5 dir=$work/n$1 mod first
	local okp=$work/pairs.ok badp=$work/pairs.bad
	first=$((run * count))
	make_pairs "$dir" "$first" "$count" ok "$offset" "$okp"
	for mod in $(rotation "$run"); do
		# A code is good up to the step after its own: start with a full step left.
		if [ "$(now_step)" -gt $((pairs_step + offset)) ]; then
			make_pairs "$dir" "$first" "$count" ok "$offset" "$okp"
		fi
		batch "$n" "$run" "$shape" ok "$mod" "$okp"
	done
	make_pairs "$dir" "$first" "$count" bad 0 "$badp"
	for mod in $(rotation "$run"); do
		[ "$mod" = floor ] || batch "$n" "$run" "$shape" fail "$mod" "$badp"
	done
}

# Syscalls and fsyncs per login: strace -c over 1 login and over 1+K logins;
# the difference divided by K leaves out the driver's own start-up.
strace_size() {
	local n=$1 dir=$work/n$1 k=$strace_logins mod kind first pairs a b
	first=$((n - k - 1))
	for kind in ok fail; do
		for mod in mfauth oath ga floor; do
			[ "$kind" = fail ] && [ "$mod" = floor ] && continue
			pairs=$work/pairs.strace
			make_pairs "$dir" "$first" $((k + 1)) "${kind/fail/bad}" 0 "$pairs"
			head -n 1 "$pairs" >"$pairs.1"
			tail -n "$k" "$pairs" >"$pairs.k"
			a=$(strace_count "$dir" "$mod" "$kind" "$pairs.1")
			b=$(strace_count "$dir" "$mod" "$kind" "$pairs.k")
			awk -v n="$n" -v m="$mod" -v kind="$kind" -v k="$k" -v a="$a" -v b="$b" 'BEGIN {
				split(a, x, " "); split(b, y, " ")
				printf "%s\t%s\t%s\t%.1f\t%.2f\n", n, m, kind, (y[1] - x[1]) / (k - 1),
				    (y[2] - x[2]) / (k - 1)
			}' >>"$work/strace.tsv"
		done
	done
}

# "SYSCALLS FSYNCS" of one driver run under strace -c.
strace_count() {
	local dir=$1 mod=$2 kind=$3 pairs=$4 expect=success floor=() so=$work/strace.out rc=0
	[ "$kind" = fail ] && expect=fail
	[ "$mod" = floor ] && floor=(--floor-file "$dir/floor.dat")
	# Exit 1 (a login not as expected) is the batches' to count; 2 is a setup error.
	strace -f -c -o "$so" "$bin/driver" --confdir "$dir/pam.d" --service "$mod" \
		--pairs "$pairs" --expect "$expect" --label "$mod" "${floor[@]}" >/dev/null || rc=$?
	[ "$rc" -le 1 ] || die "driver under strace failed ($mod $kind, exit $rc)"
	awk '$NF == "total" { t = $4 }
	     $NF ~ /^(fsync|fdatasync|syncfs|sync_file_range)$/ { s += $4 }
	     END { printf "%d %d\n", t, s }' "$so"
}

# ---------------------------------------------------------------- the run

# Inside the sink: set up and measure every size; raw numbers into $work.
inner_main() {
	local n count ecount run
	: >"$work/raw.tsv"
	: >"$work/strace.tsv"
	: >"$work/enroll.tsv"
	: >"$work/checks"
	for n in $sizes; do
		# The last strace_logins+1 users are kept for strace; rounds share the rest.
		count=$logins
		ecount=$exec_logins
		[ $((runs * count)) -le $((n - strace_logins - 1)) ] ||
			count=$(((n - strace_logins - 1) / runs))
		[ $((runs * ecount)) -le $((n - strace_logins - 1)) ] ||
			ecount=$(((n - strace_logins - 1) / runs))
		[ "$count" -ge 2 ] && [ "$ecount" -ge 2 ] || die "too few users ($n) for $runs rounds"
		echo "== N=$n: setting up" >&2
		setup_size "$n"
		echo "== N=$n: $runs rounds of $count (long-lived) and $ecount (process per login) logins" >&2
		for ((run = 0; run < runs; run++)); do
			measure_shape "$n" "$run" inproc "$count" 0
			measure_shape "$n" "$run" exec "$ecount" 1
		done
		echo "== N=$n: strace" >&2
		strace_size "$n"
	done
	echo "== the disk: one durable rewrite of the same file, another file, another block" >&2
	"$bin/fsync_locality" "$work/fsync" "$fsync_files" "$runs" >"$work/fsync.txt" ||
		die "fsync_locality failed"
}

# Snapshot the module and the tool (a rebuild during the run must not change
# what is measured); compile what the build tree does not have.
prepare_bins() {
	local cc=${CC:-cc} f
	mkdir -p "$bin"
	cp "$module" "$bin/pam_mfauth.so"
	cp "$mfauth" "$bin/mfauth"
	module=$bin/pam_mfauth.so
	mfauth=$bin/mfauth
	for f in driver sink fsync_locality; do
		if [ -x "$builddir/bench/$f" ]; then
			ln -sf "$builddir/bench/$f" "$bin/$f"
		fi
	done
	[ -x "$bin/driver" ] || "$cc" -O2 -o "$bin/driver" "$here/driver.c" -lpam
	# The bench users have no accounts: the tests' user database
	# (tests/fake_nss.c) gives the module one for each name, as a directory
	# would; every other name is looked up as usual.
	[ -f "$builddir/tests/.libs/fake_nss.so" ] || die "build tests/fake_nss.la first"
	export MFAUTH_TEST_NSS=identity LD_PRELOAD=$builddir/tests/.libs/fake_nss.so
	# In a sanitizer build the preload stands before ASan's runtime (as in
	# tests/cli/test-enroll.sh): tell ASan that this order is intended.
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
	[ -x "$bin/fsync_locality" ] || "$cc" -O2 -o "$bin/fsync_locality" "$here/fsync_locality.c"
	[ -x "$bin/sink" ] || "$cc" -O2 -I"$builddir" -I"$srcdir/tests" -o "$bin/sink" \
		"$here/sink.c" "$srcdir/tests/syslog_sink.c"
}

check_prereqs() {
	local missing=() f
	[ "$(id -u)" -eq 0 ] || die "needs root (root-owned store, private /dev/log)"
	[ -f "$module" ] || die "$module: not built (make, or --builddir DIR)"
	[ -x "$mfauth" ] || die "$mfauth: not built"
	for f in pam_oath.so pam_google_authenticator.so pam_permit.so pam_deny.so; do
		[ -f "$pamdir/$f" ] || missing+=("$f")
	done
	command -v oathtool >/dev/null || missing+=(oathtool)
	command -v strace >/dev/null || missing+=(strace)
	[ ${#missing[@]} -eq 0 ] ||
		die "missing: ${missing[*]} (apt-get install libpam-oath libpam-google-authenticator oathtool strace)"
}

# Median of the numbers on stdin (one per line).
median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "nan"; exit }
		print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

machine_info() {
	local cpu mem fs
	cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	mem=$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
	fs=$(findmnt -n -o FSTYPE,OPTIONS --target "$work" 2>/dev/null | awk '{ print $1 " (" $2 ")" }')
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- CPU: ${cpu:-unknown}, $(nproc) cores; memory: $mem"
	echo "- kernel: $(uname -sr); $(. /etc/os-release && echo "$PRETTY_NAME")"
	echo "- store file system: ${fs:-unknown} at $(dirname "$work")"
	echo "- packages: $(dpkg-query -W -f='${Package} ${Version}, ' libpam0g libpam-oath \
		libpam-google-authenticator libssl3 liboath0 2>/dev/null | sed 's/, $//')"
	echo "- mfauth: $(git -C "$srcdir" describe --always --dirty 2>/dev/null || echo 'no commit yet')," \
		"pam_mfauth.so sha256 $(sha256sum "$bin/pam_mfauth.so" | cut -c1-16)," \
		"linked with: $(ldd "$bin/pam_mfauth.so" | awk '$1 ~ /^lib/ && $1 !~ /^lib(c|pam)\.so/ { sub(/\.so.*/, "", $1); printf "%s ", $1 }')"
}

# The tables (Markdown) from raw.tsv, strace.tsv and enroll.tsv.
write_tables() {
	local out=$1 shape title n kind m v
	{
		echo "# mfauth vs pam_oath vs pam_google_authenticator"
		echo
		echo "Per-login time in µs: the median over $runs rounds of each round's median" \
			"(logins per round: $logins long-lived, $exec_logins process per login)."
		echo "floor = pam_permit.so + one in-place 512-byte write + fdatasync on the store's" \
			"file system. All modules logged to a private /dev/log sink during the run" \
			"(bench/sink: $(cat "$work/sink.txt" 2>/dev/null || echo 'no summary'))."
		for shape in inproc exec; do
			[ "$shape" = inproc ] && title="Logins in one long-lived process (display manager, sshd)"
			[ "$shape" = exec ] && title="One process per login (login, su: exec + PAM)"
			echo
			echo "## $title"
			echo
			echo "| users | login | mfauth | pam_oath | google-auth | floor | mfauth/oath | mfauth/google | mfauth/floor |"
			echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|"
			for n in $sizes; do
				for kind in ok fail; do
					declare -A t=()
					for m in mfauth oath ga floor; do
						v=$(awk -F'\t' -v n="$n" -v s="$shape" -v k="$kind" -v m="$m" \
							'$1 == n && $3 == s && ($4 == k || m == "floor") && $5 == m { print $6 }' \
							"$work/raw.tsv" | median)
						t[$m]=$v
					done
					awk -v n="$n" -v k="$kind" -v a="${t[mfauth]}" -v o="${t[oath]}" \
						-v g="${t[ga]}" -v f="${t[floor]}" 'BEGIN {
						r = "%.2f"
						printf "| %s | %s | %.0f | %.0f | %.0f | %.0f | " r " | " r " | " r " |\n",
						    n, k == "ok" ? "success" : "failure", a, o, g, f, a / o, a / g, a / f
					}'
					printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$shape" "$n" "$kind" "${t[mfauth]}" \
						"${t[oath]}" "${t[ga]}" "${t[floor]}" >>"$work/summary.tsv"
					unset t
				done
			done
		done
		echo
		echo "## Resources per login"
		echo
		echo "Peak RSS: the long-lived process after its logins / the largest login process (KiB)." \
			"Syscalls and fsyncs (fsync + fdatasync) per login: strace -c, long-lived process," \
			"$strace_logins logins less 1."
		echo
		echo "| users | module | peak RSS long-lived | peak RSS per process | syscalls success | syscalls failure | fsyncs success | fsyncs failure |"
		echo "|---:|---|---:|---:|---:|---:|---:|---:|"
		for n in $sizes; do
			for m in mfauth oath ga floor; do
				awk -F'\t' -v n="$n" -v m="$m" '
				FILENAME ~ /raw/ && $1 == n && $5 == m {
					if ($3 == "inproc" && $9 > ri) ri = $9
					if ($3 == "exec" && $9 > re) re = $9
				}
				FILENAME ~ /strace/ && $1 == n && $2 == m { sc[$3] = $4; fs[$3] = $5 }
				END {
					name = m == "ga" ? "google-auth" : m == "oath" ? "pam_oath" : m
					printf "| %s | %s | %d | %d | %s | %s | %s | %s |\n", n, name, ri, re,
					    ("ok" in sc) ? sc["ok"] : "-", ("fail" in sc) ? sc["fail"] : "-",
					    ("ok" in fs) ? fs["ok"] : "-", ("fail" in fs) ? fs["fail"] : "-"
				}' "$work/raw.tsv" "$work/strace.tsv"
			done
		done
		echo
		echo "## Enrollment (mfauth)"
		echo
		echo "| users | seconds | per user (ms) | how |"
		echo "|---:|---:|---:|---|"
		awk -F'\t' '{ printf "| %s | %.1f | %.2f | %s |\n", $1, $2, 1000 * $2 / $1, $3 }' \
			"$work/enroll.tsv"
		write_disk
		write_targets
	} >"$out"
}

# What one durable rewrite costs by where it lands (bench/fsync_locality.c).
write_disk() {
	echo
	echo "## The disk: where the durable write lands"
	echo
	echo "One rewrite = open + pwrite 512 bytes + fdatasync + close" \
		"($(awk '{ sub(/^fsync_locality /, ""); print }' "$work/fsync.txt")). The floor" \
		"rewrites one file; a login rewrites the state file of whoever logs in. Device" \
		"writes come from the block device's counters: a rewrite that also changes the" \
		"file's mtime costs one write more where fdatasync writes the inode too (ext4" \
		"without a journal)."
	echo
	echo "| per rewrite | the same file every time (floor) | a different file every time (pam_mfauth) | a different 4 KiB block of one file |"
	echo "|---|---:|---:|---:|"
	awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
	     END {
		printf "| median µs | %.0f | %.0f | %.0f |\n", v["same_file_us"], v["per_file_us"], v["per_block_us"]
		printf "| device writes | %s | %s | %s |\n", v["same_file_writes"], v["per_file_writes"], v["per_block_writes"]
	     }' "$work/fsync.txt"
}

# The issue's targets, each with its numbers and a verdict.
write_targets() {
	local s=$work/summary.tsv
	echo
	echo "## Targets"
	echo
	awk -F'\t' -v sizes="$sizes" -v enr="$work/enroll.tsv" '
	function verdict(ok) { return ok ? "met" : "**missed**" }
	$1 == "inproc" { a[$2, $3] = $4; o[$2, $3] = $5; g[$2, $3] = $6; f[$2, $3] = $7 }
	END {
		while ((getline line < enr) > 0) { split(line, e, "\t"); es[e[1]] = e[2] }
		have10k = ((10000, "ok") in a); have1 = ((1000, "ok") in a); have100 = ((100000, "ok") in a)
		if (!have10k && !(have1 && have100)) {
			print "(targets need the 1,000/10,000/100,000-user sizes; not in this run)"
			exit
		}
		if (have10k) for (k = 0; k < 2; k++) {
			kind = k ? "fail" : "ok"; name = k ? "Failed" : "Successful"
			peer = o[10000, kind] < g[10000, kind] ? o[10000, kind] : g[10000, kind]
			printf "- %s login, 10,000 users, long-lived: mfauth %.0f µs = %.2f× the faster peer " \
			    "(target ≤ 0.5×): %s; %.2f× the floor (target ≤ 1.5×): %s\n", name,
			    a[10000, kind], a[10000, kind] / peer, verdict(a[10000, kind] <= 0.5 * peer),
			    a[10000, kind] / f[10000, kind], verdict(a[10000, kind] <= 1.5 * f[10000, kind])
		}
		if (have1 && have100) for (k = 0; k < 2; k++) {
			kind = k ? "fail" : "ok"; name = k ? "failed" : "successful"
			printf "- Flat in users (%s login): mfauth at 100,000 / at 1,000 = %.2f " \
			    "(target ≤ 1.3): %s; pam_oath %.2f, google-auth %.2f\n", name,
			    a[100000, kind] / a[1000, kind], verdict(a[100000, kind] <= 1.3 * a[1000, kind]),
			    o[100000, kind] / o[1000, kind], g[100000, kind] / g[1000, kind]
		}
		if (10000 in es)
			printf "- Enrollment of 10,000 users by bulk import: %.1f s (target < 30 s): %s\n",
			    es[10000], verdict(es[10000] < 30)
	}' "$s"
}

outer_main() {
	local started out rc=0 passed failed scratch=
	check_prereqs
	started=$(date +%s)
	if [ "$smoke" = 1 ]; then
		results=$(mktemp -d /var/tmp/mfauth-bench-smoke.XXXXXX)
		scratch=$results
	fi
	results=${results:-$here/results}
	mkdir -p "$results"
	work=$(mktemp -d /var/tmp/mfauth-bench.XXXXXX)
	bin=$work/bin
	# Removed only at the end: on ext4 without a journal, inodes freed in the
	# last minutes are skipped when new ones are allocated, and deleting one
	# size's files would slow the next size's enrollment.
	# shellcheck disable=SC2064
	if [ "$keep" = 1 ]; then
		trap "rm -rf '$scratch'" EXIT
	else
		trap "rm -rf '$work' '$scratch'" EXIT
	fi
	prepare_bins
	# Third-party modules' leaks are not ours to report (sanitizer builds).
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
	"$bin/sink" --log "$work/syslog.log" --summary "$work/sink.txt" \
		bash "$0" --inner "$work" --sizes "$sizes" --runs "$runs" --logins "$logins" \
		--exec-logins "$exec_logins" --strace-logins "$strace_logins" \
		--fsync-files "$fsync_files" \
		--builddir "$builddir" $([ "$keep" = 1 ] && echo --keep) || rc=$?
	echo "run.sh: $(cat "$work/sink.txt" 2>/dev/null || echo 'sink: no summary')" >&2
	[ "$rc" -eq 0 ] || die "the measurement failed (exit $rc)"

	out=$results/results.md
	: >"$work/summary.tsv"
	write_tables "$out"
	{
		echo
		echo "## Machine"
		echo
		machine_info
		echo "- wall time of the whole run: $(($(date +%s) - started)) s"
	} >>"$out"
	cp "$work/raw.tsv" "$results/raw.tsv"
	cp "$work/strace.tsv" "$results/strace.tsv"
	for s in inproc exec; do
		awk -F'\t' -v s="$s" '$1 == s { v[$2] = v[$2] "\t" $4 "\t" $5 "\t" $6 "\t" $7; if (!($2 in seen)) { seen[$2] = 1; ord[++n] = $2 } }
			END { for (i = 1; i <= n; i++) print ord[i] v[ord[i]] }' "$work/summary.tsv" \
			>"$results/plot-$s.dat"
	done
	if command -v gnuplot >/dev/null; then
		gnuplot -e "dir='$results'" "$here/plot.gp" ||
			echo "run.sh: gnuplot failed; no plot" >&2
	else
		echo "run.sh: gnuplot not installed (apt-get install gnuplot-nox); no plot" >&2
	fi
	cat "$out"

	passed=$(grep -c ' ok$' "$work/checks" || true)
	failed=$(grep -c ' FAIL$' "$work/checks" || true)
	if [ "$smoke" = 1 ]; then
		# Each module must have been measured in every shape and outcome.
		for m in mfauth oath ga; do
			for k in "inproc ok" "inproc fail" "exec ok" "exec fail"; do
				if grep -q "$k $m " "$work/checks"; then :; else
					echo "FAIL: no $k batch for $m" >&2
					failed=$((failed + 1))
				fi
			done
		done
	fi
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

if [ "$inner" = 1 ]; then
	bin=$work/bin
	module=$bin/pam_mfauth.so
	mfauth=$bin/mfauth
	inner_main
else
	outer_main
fi
