#!/usr/bin/env bash
# Fleet mode (store = ldap) against a private slapd, in one run (bench/README.md, "Fleet mode"):
#
#   bench/fleet.sh --builddir DIR [--users 10000] [--logins 300] [--rounds 3]
#                  [--tput-logins 800] [--results FILE] [--keep]
#
# 1. The rig (tests/ldap/slapd-rig.sh: slapd on loopback, ldaps with a generated CA, the shipped
#    schema and ACL, terminal and staff accounts) gets --users enrolled users by `mfauth import
#    csv` with staff credentials: every record and state sealed for its own user by the tool, as
#    a real enrollment does.  The time it takes is reported.
# 2. Login latency, long-lived process (bench/driver, inproc): --logins TOTP logins with a
#    fresh code (a different user each, so no code is a replay) on terminal 1's identity over
#    ldaps, the same number on the files backend (a store on this disk of the users it logs in:
#    its login time is flat in the number of users, bench/README.md), and
#    the raw floor (bench/ldap_floor: libldap only, connect + TLS + bind + search + modify of
#    the same size, per round, as the module does per login) on the same server and URI.
# 3. Round trips: slapd's own stats lines (it logs each operation with its connection) over
#    the latency batch, per login.
# 4. Throughput: 1, 4 and 16 driver processes at once on the 4 terminal identities,
#    --tput-logins logins in all at each level (distinct users), logins per second of wall
#    time, and the CPU slapd and the machine used meanwhile.
# 5. mfauth list of all --users, on staff credentials and on a files store given the same users
#    (3 runs each, the median), and the searches one list makes on slapd's side.
# Codes come from oathtool's algorithm in python3 (hmac, RFC 6238), never from mfauth.
# Needs root (root-owned key and password files; bench/sink's mount namespace), slapd and
# ldap-utils, python3, a built tree with bench/driver, bench/sink, bench/ldap_floor and
# tests/fake_nss.la (`make -C BUILD bench-fleet` builds them and runs this).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
srcdir=$(cd "$here/.." && pwd)
builddir=${MFAUTH_BUILDDIR:-}
users=10000
logins=300
tput_logins=800
rounds=3
results=
keep=0

die() { echo "fleet.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	--builddir) builddir=$2; shift 2 ;;
	--users) users=$2; shift 2 ;;
	--logins) logins=$2; shift 2 ;;
	--tput-logins) tput_logins=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--results) results=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	--inner) shift ;;
	*) die "unknown option $1" ;;
	esac
done
[ -n "$builddir" ] || die "--builddir DIR (a built tree)"
builddir=$(cd "$builddir" && pwd)
[ "$(id -u)" -eq 0 ] || die "needs root (root-owned key and password files, a private /dev/log)"
for n in "$users" "$logins" "$tput_logins" "$rounds"; do
	[[ $n =~ ^[1-9][0-9]*$ ]] || die "counts are positive integers"
done
((logins >= rounds)) || die "--logins must be at least --rounds"
need=$((2 * logins + 3 * tput_logins + 1))
((users >= need)) || die "--users $users: the run needs $need distinct users (one success each)"
for f in bench/driver bench/sink bench/ldap_floor tools/mfauth pam_module/.libs/pam_mfauth.so \
	lib/.libs/mfauth_store_ldap.so tests/.libs/fake_nss.so; do
	[ -e "$builddir/$f" ] || die "$builddir/$f missing: make -C BUILD bench-fleet builds it"
done

# Everything inside bench/sink: a private /dev/log drained as fast as lines come (the module's
# audit lines and slapd's stats lines, which are counted below).
if [ -z "${MFAUTH_FLEET_INNER:-}" ]; then
	work=$(mktemp -d /var/tmp/mfauth-fleet.XXXXXX)
	[ "$keep" = 1 ] || trap 'rm -rf "$work"' EXIT
	: >"$work/syslog"
	rc=0
	MFAUTH_FLEET_INNER=$work "$builddir/bench/sink" --log "$work/syslog" \
		--summary "$work/sink.summary" bash "$0" --builddir "$builddir" --users "$users" \
		--logins "$logins" --tput-logins "$tput_logins" --rounds "$rounds" \
		${results:+--results "$results"} || rc=$?
	[ "$keep" = 1 ] && echo "fleet.sh: kept $work"
	exit $rc
fi
work=$MFAUTH_FLEET_INNER
T=$work
start_s=$(date +%s)
. "$srcdir/tests/ldap/slapd-rig.sh"
ldap_rig_start "$T/rig" || die "the slapd rig did not start"
. "$T/rig/env"
slapd_pid=$(cat "$T/rig/slapd.job")
# The bench users have no accounts: the tests' user database gives one for each name.
export MFAUTH_TEST_NSS=identity LD_PRELOAD=$builddir/tests/.libs/fake_nss.so

module=$builddir/pam_module/.libs/pam_mfauth.so
mkdir -m 755 "$T/pam.d"
printf 'auth required pam_deny.so\naccount required pam_deny.so\n' >"$T/pam.d/other"
# conf NAME DN PASSWORD: an ldap config on ldaps with its password file and PAM service.
conf() {
	local name=$1 dn=$2 pw=$3
	printf '%s' "$pw" >"$T/$name.secret" && chmod 600 "$T/$name.secret"
	{
		printf 'store = ldap\nkey_file = %s/store.key\nldap_uri = %s\n' "$T" "$LDAP_RIG_URI_LDAPS"
		printf 'ldap_base = %s\nldap_bind_dn = %s\n' "$LDAP_RIG_BASE" "$dn"
		printf 'ldap_bind_pw_file = %s/%s.secret\nldap_ca_file = %s\n' "$T" "$name" "$LDAP_RIG_CA"
		printf 'ldap_timeout = 5\ndeny = 5\nunlock_time = 0\nwindow = 1\n'
		printf 'ldap_module = %s\n' "$builddir/lib/.libs/mfauth_store_ldap.so"
	} >"$T/$name.conf"
	chmod 644 "$T/$name.conf"
	printf 'auth required %s conf=%s/%s.conf\n' "$module" "$T" "$name" >"$T/pam.d/$name"
}
conf staff "$LDAP_RIG_STAFF_DN" "$LDAP_RIG_STAFF_PW"
for i in 1 2 3 4; do
	dn=LDAP_RIG_TERM_DN_$i
	conf "t$i" "${!dn}" "$LDAP_RIG_TERM_PW"
done
# The files backend, same defaults, its own store and key on this disk.
printf 'store_dir = %s/fstore\nkey_file = %s/files.key\ndeny = 5\nunlock_time = 0\nwindow = 1\n' \
	"$T" "$T" >"$T/files.conf"
chmod 644 "$T/files.conf"
printf 'auth required %s conf=%s/files.conf\n' "$module" "$T" >"$T/pam.d/files"

# seeds.csv (user,base32 seed) for fleet00001..N, and codes USERS-FILE: "user code" now.
python3 - "$users" "$T/seeds.csv" <<'EOF'
import base64, hashlib, sys
n, out = int(sys.argv[1]), sys.argv[2]
with open(out, "w") as f:
    for i in range(1, n + 1):
        u = "fleet%05d" % i
        f.write("%s,%s\n" % (u, base64.b32encode(hashlib.sha256(u.encode()).digest()[:20]).decode()))
EOF
# pairs FIRST COUNT OUT: "user code" lines for users FIRST.. with the current step's code.
pairs() {
	python3 - "$T/seeds.csv" "$1" "$2" "$3" <<'EOF'
import base64, hmac, struct, sys, time
seeds, first, count, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rows = open(seeds).read().split()
step = int(time.time()) // 30
with open(out, "w") as f:
    for line in rows[first - 1:first - 1 + count]:
        u, s = line.split(",")
        h = hmac.new(base64.b32decode(s), struct.pack(">Q", step), "sha1").digest()
        o = h[-1] & 15
        code = (struct.unpack(">I", h[o:o + 4])[0] & 0x7fffffff) % 1000000
        f.write("%s %06d\n" % (u, code))
EOF
}
# A batch starts in a fresh 30-second step when the current one is nearly over, so no code
# goes stale during it (the window accepts one step either side, but stay clear of the edge).
fresh_step() { local s; s=$(($(date +%s) % 30)); if ((s > 22)); then sleep $((30 - s)); fi; }
# field NAME FILE: the median over FILE's lines of NAME=VALUE.
field() {
	sed -n "s/.* $1=\([^ ]*\).*/\1/p" "$2" | sort -g |
		awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ms() { awk -v v="$1" 'BEGIN { printf "%.2f", v / 1000 }'; }

# --- 1. enrollment --------------------------------------------------------------------------
"$builddir/tools/mfauth" -c "$T/staff.conf" init >"$T/init.out" 2>&1 ||
	{ cat "$T/init.out" >&2; die "mfauth init (ldap) failed"; }
t0=$(date +%s%N)
"$builddir/tools/mfauth" -c "$T/staff.conf" import csv <"$T/seeds.csv" >"$T/import.out" 2>&1 ||
	{ tail -n 5 "$T/import.out" >&2; die "mfauth import csv (ldap) failed"; }
t1=$(date +%s%N)
enroll_ms=$(((t1 - t0) / 1000000))
# The files store gets the users its latency batch logs in with (the files backend's login
# time does not depend on the number of users: bench/README.md, flat to 100,000).
"$builddir/tools/mfauth" -c "$T/files.conf" init >/dev/null 2>&1 || die "mfauth init (files) failed"
files_first=$((logins + 1))
sed -n "${files_first},$((files_first + logins - 1))p" "$T/seeds.csv" |
	"$builddir/tools/mfauth" -c "$T/files.conf" import csv >"$T/fimport.out" 2>&1 ||
	{ tail -n 5 "$T/fimport.out" >&2; die "mfauth import csv (files) failed"; }
entries=$(ldapsearch -x -LLL -H "$LDAP_RIG_URI_LDAPI" -D "$LDAP_RIG_ROOTDN" -w "$LDAP_RIG_ROOTPW" \
	-b "$LDAP_RIG_BASE" -s one -z 0 '(objectClass=mfauthUser)' 1.1 | grep -c '^dn:')
((entries >= users)) || die "$entries entries in the directory, $users expected"

# --- 2. latency -----------------------------------------------------------------------------
# --rounds rounds, each a batch of ldap logins, files logins and floor rounds, in an order that
# rotates from round to round (the machine is shared: a burst of load falls on one kind less);
# the table shows the median of the rounds' medians and of their 95th percentiles.
per_round=$((logins / rounds))
files_first=$((logins + 1))
floor_user=fleet$(printf '%05d' "$users")
: >"$T/p.ldap"
lat_ldap() {
	pairs "$((1 + r * per_round))" "$per_round" "$T/p.ldap.$r"
	cat "$T/p.ldap.$r" >>"$T/p.ldap"
	"$builddir/bench/driver" --confdir "$T/pam.d" --service t1 --pairs "$T/p.ldap.$r" \
		--expect success --label ldap >>"$T/lat.ldap" ||
		die "ldap logins: not every one succeeded ($(tail -n 1 "$T/lat.ldap"))"
}
lat_files() {
	pairs "$((files_first + r * per_round))" "$per_round" "$T/p.files.$r"
	"$builddir/bench/driver" --confdir "$T/pam.d" --service files --pairs "$T/p.files.$r" \
		--expect success --label files >>"$T/lat.files" ||
		die "files logins failed ($(tail -n 1 "$T/lat.files"))"
}
lat_floor() {
	"$builddir/bench/ldap_floor" --uri "$LDAP_RIG_URI_LDAPS" --ca "$LDAP_RIG_CA" \
		--bind-dn "$LDAP_RIG_TERM_DN_1" --pw-file "$T/t1.secret" \
		--entry "cn=$floor_user,$LDAP_RIG_BASE" --rounds "$per_round" >>"$T/lat.floor" ||
		die "ldap_floor failed"
}
kinds=(ldap files floor)
for ((r = 0; r < rounds; r++)); do
	fresh_step
	for ((k = 0; k < 3; k++)); do
		"lat_${kinds[(r + k) % 3]}"
	done
done

# --- 4. throughput --------------------------------------------------------------------------
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# The CPU time of this shell's waited-for children (the drivers: the module runs in them).
child_ticks() { awk '{ sub(/^.*\) /, ""); print $14 + $15 }' "/proc/$$/stat"; }
idle_total() { awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print $5 + $6, t }' /proc/stat; }
hz=$(getconf CLK_TCK)
next_user=$((2 * logins + 1))
: >"$T/tput"
for c in 1 4 16; do
	per=$((tput_logins / c))
	fresh_step
	for ((i = 0; i < c; i++)); do
		pairs "$((next_user + i * per))" "$per" "$T/p.tput.$c.$i"
	done
	next_user=$((next_user + c * per))
	s0=$(cpu_ticks "$slapd_pid") c0=$(child_ticks)
	read -r i0 a0 < <(idle_total)
	t0=$(date +%s%N)
	pids=()
	for ((i = 0; i < c; i++)); do
		"$builddir/bench/driver" --confdir "$T/pam.d" --service "t$((i % 4 + 1))" \
			--pairs "$T/p.tput.$c.$i" --expect success --label "tput$c" >"$T/tput.$c.$i" 2>&1 &
		pids+=($!)
	done
	bad=0
	for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
	t1=$(date +%s%N)
	s1=$(cpu_ticks "$slapd_pid") c1=$(child_ticks)
	read -r i1 a1 < <(idle_total)
	((bad == 0)) || { cat "$T"/tput."$c".* >&2; die "$bad of $c terminals had a login fail"; }
	awk -v c="$c" -v n="$((c * per))" -v ns="$((t1 - t0))" -v st="$((s1 - s0))" -v hz="$hz" \
		-v ct="$((c1 - c0))" -v idle="$((i1 - i0))" -v all="$((a1 - a0))" -v p95="$(cat "$T"/tput."$c".* |
		sed -n 's/.* p95_us=\([^ ]*\).*/\1/p' | sort -g | tail -n 1)" \
		'BEGIN { s = ns / 1e9; printf "%d\t%d\t%.0f\t%.2f\t%.0f\t%.0f\t%.2f\t%.2f\n", c, n, n / s,
		p95 / 1000, 100 * st / hz / s, 100 * (all - idle) / all, 1000 * ct / hz / n, 1000 * st / hz / n }' \
		>>"$T/tput"
done

# --- 5. mfauth list: every user, both backends ---------------------------------------------------
# The files store gets every other user too, so that both lists hold $users; then each list runs
# list_runs times (the median is reported), its output checked for the number of users.
sed -e "${files_first},$((files_first + logins - 1))d" "$T/seeds.csv" |
	"$builddir/tools/mfauth" -c "$T/files.conf" import csv >"$T/fimport2.out" 2>&1 ||
	{ tail -n 5 "$T/fimport2.out" >&2; die "mfauth import csv (files, the rest) failed"; }
list_runs=3
time_list() {
	local conf=$1 t0 t1 n
	t0=$(date +%s%N)
	"$builddir/tools/mfauth" -c "$conf" list >"$T/list.out" 2>&1 || die "mfauth list ($conf) failed"
	t1=$(date +%s%N)
	n=$(grep -c '^fleet' "$T/list.out")
	((n == users)) || die "mfauth list ($conf) showed $n users, $users expected"
	echo $(((t1 - t0) / 1000))
}
: >"$T/list.ldap"
: >"$T/list.files"
for ((r = 0; r < list_runs; r++)); do
	time_list "$T/staff.conf" >>"$T/list.ldap"
	time_list "$T/files.conf" >>"$T/list.files"
done

# --- 3. operations per login on slapd's side ----------------------------------------------------
# slapd logs every operation as "conn=C op=O VERB ..." (some in several lines).  The logins of
# the latency batch are the connections bound as a terminal that searched one of its users' entries; their
# operations are tallied here, after the throughput batches (the sink writes its file buffered,
# so the lines of the latency batch are surely in it by now).
sleep 1
awk -v want="$T/p.ldap" -v modf="$T/etime.mod" -v srchf="$T/etime.srch" '
	BEGIN { while ((getline l < want) > 0) { split(l, a, " "); u[a[1]] = 1 } }
	match($0, /conn=[0-9]+ op=[0-9]+ (BIND|SRCH|MOD|ADD|DEL|MODRDN|CMP|EXT|UNBIND)/) {
		split(substr($0, RSTART, RLENGTH), f, " ")
		if (!seen[f[1] " " f[2] " " f[3]]++) ops[f[1] " " f[3]]++
		if (f[3] == "BIND" && index($0, "BIND dn=\"cn=terminal-")) term[f[1]] = 1
		if (f[3] == "SRCH" && (f[1] in term) && match($0, /base="cn=[^,"]+/) && (substr($0, RSTART + 9, RLENGTH - 9) in u))
			login[f[1]] = 1
	}
	# slapd'"'"'s own time for each operation of those logins (etime, seconds): the modify'"'"'s is
	# the mdb commit (a synced write, as configured by default), the search'"'"'s a read.
	/ RESULT tag=10[13] / && match($0, /conn=[0-9]+ /) && (substr($0, RSTART, RLENGTH - 1) in login) &&
	    match($0, /etime=[0-9.]+/) {
		print substr($0, RSTART + 6, RLENGTH - 6) * 1e6 > (index($0, "tag=103") ? modf : srchf)
	}
	END {
		split("BIND SRCH MOD ADD DEL MODRDN CMP EXT UNBIND", v, " ")
		for (c in login) { n++; for (i in v) t[v[i]] += ops[c " " v[i]] }
		printf "logins %d\n", n
		for (i in v) printf "%s %.2f\n", v[i], n ? t[v[i]] / n : 0
	}' "$T/syslog" >"$T/ops"
op() { awk -v k="$1" '$1 == k { print $2 }' "$T/ops"; }
# The searches of one mfauth list, from slapd's stats lines: the staff connections that only
# searched (the imports added, init added the decoy), averaged.
list_srch=$(awk '
	/ BIND dn="cn=staff-01,/ && match($0, /conn=[0-9]+ /) { staff[substr($0, RSTART, RLENGTH - 1)] = 1 }
	match($0, /conn=[0-9]+ op=[0-9]+ (SRCH|ADD|MOD) /) {
		split(substr($0, RSTART, RLENGTH - 1), f, " ")
		if (!seen[f[1] " " f[2]]++) { if (f[3] == "SRCH") srch[f[1]]++; else wrote[f[1]] = 1 }
	}
	END {
		for (c in staff) if (!(c in wrote) && srch[c] > 0) { n++; t += srch[c] }
		printf "%.0f", n ? t / n : 0
	}' "$T/syslog")
median_of() { sort -g "$1" | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : 0 }'; }

# --- the report -------------------------------------------------------------------------------
ldap_med=$(field median_us "$T/lat.ldap") ldap_p95=$(field p95_us "$T/lat.ldap")
files_med=$(field median_us "$T/lat.files") files_p95=$(field p95_us "$T/lat.files")
floor_med=$(field median_us "$T/lat.floor") floor_p95=$(field p95_us "$T/lat.floor")
floor_bind=$(field connect_bind_median_us "$T/lat.floor") floor_ops=$(field ops_median_us "$T/lat.floor")
ratio=$(awk -v a="$ldap_med" -v b="$floor_med" 'BEGIN { printf "%.2f", a / b }')
rt=$(awk -v s="$(op SRCH)" -v m="$(op MOD)" -v a="$(op ADD)" -v c="$(op CMP)" -v d="$(op DEL)" \
	-v r="$(op MODRDN)" 'BEGIN { printf "%.2f", s + m + a + c + d + r }')
tput16=$(awk -F'\t' '$1 == 16 { print $3 }' "$T/tput")
verdict() { if awk -v v="$1" -v l="$2" -v op="$3" 'BEGIN { exit !(op == "le" ? v <= l : v >= l) }'; then
	echo met; else echo "**missed**"; fi; }
out=${results:-/dev/stdout}
{
	echo "Fleet mode: $users users in a private slapd ($(slapd -VV 2>&1 | grep -o 'slapd [0-9.]*' | head -n 1), mdb), ldaps on loopback, $(nproc) cores; $(date -u '+%Y-%m-%d %H:%M UTC')."
	echo
	echo "Load average when the run ended (the machine is shared): $(cut -d' ' -f1-3 /proc/loadavg)."
	echo
	echo "Enrollment: mfauth import csv (staff credentials, one connection, each user's record and state sealed for that user) of $users users: $(awk -v m="$enroll_ms" -v n="$users" 'BEGIN { printf "%.1f s, %.2f ms per user", m / 1000, m / n }')."
	echo
	echo "| login, long-lived process ($rounds rounds of $per_round, median of the rounds) | median ms | p95 ms |"
	echo "|---|---:|---:|"
	echo "| store = ldap (TOTP, fresh code, terminal 1) | $(ms "$ldap_med") | $(ms "$ldap_p95") |"
	echo "| store = files (TOTP, fresh code, same disk) | $(ms "$files_med") | $(ms "$files_p95") |"
	echo "| floor: libldap connect + TLS + bind + search + modify | $(ms "$floor_med") | $(ms "$floor_p95") |"
	echo "| floor, of which connect + TLS + bind | $(ms "$floor_bind") | |"
	echo "| floor, of which search + modify | $(ms "$floor_ops") | |"
	echo
	echo "Operations per ldap login on slapd's side (its stats log, the $(op logins) connections of the latency batch): BIND $(op BIND), SRCH $(op SRCH), MOD $(op MOD), ADD $(op ADD), EXT (StartTLS) $(op EXT), UNBIND $(op UNBIND), other 0 unless listed: DEL $(op DEL), MODRDN $(op MODRDN), CMP $(op CMP)."
	echo
	echo "slapd's own time per operation (etime in its stats log, median): search $(ms "$(median_of "$T/etime.srch")") ms, modify (the mdb commit) $(ms "$(median_of "$T/etime.mod")") ms."
	echo
	echo "| terminals at once | logins | logins/s | worst p95 ms | slapd CPU % of one core | machine CPU busy % | CPU ms per login: terminals (PAM + module + TLS) | CPU ms per login: slapd |"
	echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
	awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8 }' "$T/tput"
	echo
	echo "| mfauth list, $users users ($list_runs runs, median) | seconds |"
	echo "|---|---:|"
	echo "| store = ldap (staff credentials; searches per list on slapd's side: $list_srch) | $(awk -v v="$(median_of "$T/list.ldap")" 'BEGIN { printf "%.2f", v / 1e6 }') |"
	echo "| store = files (same disk) | $(awk -v v="$(median_of "$T/list.files")" 'BEGIN { printf "%.2f", v / 1e6 }') |"
	echo
	echo "- round trips after the bind on the success path: $rt (target <= 2): $(verdict "$rt" 2 le)"
	echo "- ldap login / floor (median): $ratio (target <= 1.5): $(verdict "$ratio" 1.5 le)"
	echo "- 16 terminals: $tput16 logins/s (target >= 300): $(verdict "$tput16" 300 ge)"
	echo "- wall time of the run: $(($(date +%s) - start_s)) s"
} >"$out"
[ -n "$results" ] && cat "$results"
exit 0
