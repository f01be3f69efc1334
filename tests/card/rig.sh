#!/bin/bash
# rig.sh - a private pcscd with virtual cards (vsmartcard-vpcd + vcard.py) for mfauth's tests.
#
# Commands (or, after `. tests/card/rig.sh`, the functions rig_start, rig_card, ...):
#   rig.sh start  DIR [--owner PID] [--keys KEYDIR] [--timeout MS]
#   rig.sh card   DIR PROFILE [--slot 0|1] [--timeout MS] [vcard.py options...]
#   rig.sh remove DIR [--slot 0|1] [--timeout MS]
#   rig.sh stop   DIR
#   rig.sh exec   DIR -- CMD [ARG...]       run CMD with DIR/env loaded
#   rig.sh run    DIR [start options] -- CMD [ARG...]
#                                           start, run CMD with DIR/env loaded, stop; CMD's status
# PROFILE is jpki, piv-rsa or piv-ec; `vcard.py --help` lists the card options (--pin, --tries,
# --state, --identity other, --expired, --gzip-cert, --pull-after-apdus N, --log, ...).
#
# How clients reach the private pcscd
#   pcscd 1.9.9 always binds /run/pcscd/pcscd.comm. `start` runs it in its own mount namespace
#   (`unshare --user --map-root-user --mount`, so it works for root and for normal users) where
#   a private directory RUN is bind-mounted over /run and an empty tmpfs over /dev/bus/usb (no
#   real readers leak in). RUN is an ordinary directory (DIR/run, or /tmp/mfauth-rig-UID-HASH
#   when DIR is too long for a socket path), so the socket is also reachable from outside the
#   namespace as RUN/pcscd/pcscd.comm, and the client library honours PCSCLITE_CSOCK_NAME.
#   Clients therefore need no namespace at all:
#       . DIR/env          # export PCSCLITE_CSOCK_NAME=RUN/pcscd/pcscd.comm, MFAUTH_RIG_* ...
#       ./my_c_test        # or the PAM stack under test: they simply call SCardEstablishContext
#   (measured: root and uid nobody, from outside the namespace, both connect).
#   Caveat: libpcsclite reads PCSCLITE_CSOCK_NAME once per process (first SCardEstablishContext)
#   and caches it, so RUN depends only on DIR: a process may stop and restart the rig in the
#   same DIR, but cannot switch to a rig in another DIR.
#   Fallbacks, in order: `unshare --mount` (root without user namespaces), then root running
#   pcscd on the real /run when no other pcscd (or pcscd.socket) owns it. With none of them:
#   a loud message and exit 77 (automake's SKIP). MFAUTH_RIG_MODE=userns|mountns|host forces one.
#
# Lifetimes (nothing outlives the test, nothing is killed by name)
#   pcscd runs under `wait_card keep`, which ties it to its keeper with PR_SET_PDEATHSIG (as
#   `setpriv --pdeathsig TERM` would) and stops it when the OWNER process exits: the calling
#   shell ($$) when sourced, else --owner PID or rig.sh's parent. A C test calling
#   `rig.sh start` through system() must pass --owner getpid() (system's sh would be the parent)
#   or, simpler, be run under `rig.sh run`. Cards exit when pcscd goes away (vpcd closes their
#   socket). `stop` kills cards, pcscd and keeper by PID and waits until they are gone.
#
# Files in DIR: env (the exports above), reader.conf, pcscd.log, pcscd.pid, keeper.pid, run/,
#   rundir (the path of RUN),
#   cardN.pid, cardN.out (vcard stderr), cardN.log (vcard event log: one line per APDU and per
#   power-up/power-down/reset; VERIFY data is never logged), state.PROFILE[.other] (PIN tries,
#   shared by restarts of the same card), keys/ (make_keys.py output unless --keys or
#   MFAUTH_RIG_KEYS names a shared directory).
#
# The C helper wait_card (waits on SCardGetStatusChange/pidfds, keeps pcscd) is taken from
# $MFAUTH_WAIT_CARD, else next to this script, else compiled into DIR with:
#   cc -O2 -Wall -Wextra -o wait_card wait_card.c $(pkg-config --cflags --libs libpcsclite)
#
# Exit status: 0 ok, 1 failed (card did not appear, pcscd died...), 2 usage,
#   77 no way to run a private pcscd here, 99 a prerequisite is missing (package, compiler).

RIG_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RIG_PYTHON=/usr/bin/python3
RIG_PCSCD=${MFAUTH_PCSCD:-/usr/sbin/pcscd}
RIG_VPCD_LIB=/usr/lib/pcsc/drivers/serial/libifdvpcd.so
RIG_READER_NAME="Virtual PCD"

rig__err() { printf 'rig: %s\n' "$*" >&2; }

# rig__alive PID: true if PID runs (a zombie does not count).
rig__alive() {
	local state
	[[ -n $1 && -r /proc/$1/stat ]] || return 1
	state=$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ -n $state && $state != Z && $state != X ]]
}

rig__readpid() { [[ -r $1 ]] && read -r _pid <"$1" && [[ $_pid =~ ^[0-9]+$ ]] && echo "$_pid"; }

# rig__helper DIR: print the path of a usable wait_card binary, compiling one into DIR if needed.
rig__helper() {
	local dir=$1 src=$RIG_HERE/wait_card.c cc=${CC:-cc} flags
	if [[ -n ${MFAUTH_WAIT_CARD:-} ]]; then
		[[ -x $MFAUTH_WAIT_CARD ]] || { rig__err "MFAUTH_WAIT_CARD=$MFAUTH_WAIT_CARD is not executable"; return 99; }
		echo "$MFAUTH_WAIT_CARD"; return 0
	fi
	if [[ -x $RIG_HERE/wait_card && ! $RIG_HERE/wait_card -ot $src ]]; then
		echo "$RIG_HERE/wait_card"; return 0
	fi
	if [[ -x $dir/wait_card && ! $dir/wait_card -ot $src ]]; then
		echo "$dir/wait_card"; return 0
	fi
	flags=$(pkg-config --cflags --libs libpcsclite 2>/dev/null) || {
		rig__err "libpcsclite-dev (pkg-config libpcsclite) is missing: cannot build wait_card"; return 99; }
	# shellcheck disable=SC2086
	"$cc" -O2 -Wall -Wextra -o "$dir/wait_card" "$src" $flags >&2 || {
		rig__err "cannot compile $src with $cc"; return 99; }
	echo "$dir/wait_card"
}

# rig__check_prereqs: the packages the rig needs (doc/testing.md, "Cards").
rig__check_prereqs() {
	local missing=()
	[[ -x $RIG_PCSCD ]] || missing+=("pcscd ($RIG_PCSCD)")
	[[ -e $RIG_VPCD_LIB ]] || missing+=("vsmartcard-vpcd ($RIG_VPCD_LIB)")
	[[ -x $RIG_PYTHON ]] || missing+=("$RIG_PYTHON")
	command -v unshare >/dev/null || missing+=("unshare (util-linux)")
	if ((${#missing[@]})); then
		rig__err "missing prerequisites: ${missing[*]}"
		return 99
	fi
}

# rig__free_port_pair: an even port P with P and P+1 not listening (vpcd binds both, all IPv4
# interfaces), below the kernel's ephemeral range (a port in it can be the local end of an
# outgoing connection, which the list of listeners does not show). Races with other processes
# are caught later: pcscd then lists no reader.
rig__free_port_pair() {
	local used port i low
	low=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
	[[ $low =~ ^[0-9]+$ ]] && ((low > 21000)) || low=32768
	used=$(awk 'FNR > 1 && $4 == "0A" { split($2, a, ":"); print strtonum("0x" a[2]) }' \
		/proc/net/tcp /proc/net/tcp6 2>/dev/null | sort -u)
	for ((i = 0; i < 50; i++)); do
		port=$((20000 + (RANDOM % ((low - 20002) / 2)) * 2))
		if ! grep -qx -e "$port" -e "$((port + 1))" <<<"$used"; then
			echo "$port"; return 0
		fi
	done
	return 1
}

# rig__choose_mode RUN: print userns, mountns or host; return 77 when none works.
rig__choose_mode() {
	local run=$1 mode=${MFAUTH_RIG_MODE:-}
	case $mode in
	userns | mountns | host | "") ;;
	*) rig__err "MFAUTH_RIG_MODE must be userns, mountns or host"; return 2 ;;
	esac
	if [[ -z $mode || $mode == userns ]] &&
		unshare --user --map-root-user --mount -- mount --bind "$run" /run 2>/dev/null; then
		echo userns; return 0
	fi
	if [[ -z $mode || $mode == mountns ]] && ((EUID == 0)) &&
		unshare --mount -- mount --bind "$run" /run 2>/dev/null; then
		echo mountns; return 0
	fi
	if [[ -z $mode || $mode == host ]] && ((EUID == 0)) && [[ ! -e /run/pcscd/pcscd.comm ]]; then
		echo host; return 0
	fi
	{
		echo "rig: ****************************************************************"
		echo "rig: cannot run a private pcscd here (uid $EUID${mode:+, MFAUTH_RIG_MODE=$mode}):"
		echo "rig:   - user namespaces are refused (unshare --user --map-root-user --mount)"
		if ((EUID == 0)); then
			echo "rig:   - mount namespaces are refused (unshare --mount)"
			echo "rig:   - /run/pcscd/pcscd.comm exists: another pcscd (or pcscd.socket) owns it"
		else
			echo "rig:   - not root, so neither a plain mount namespace nor the real /run"
		fi
		echo "rig: the smartcard tests cannot run (exit 77 = SKIP)"
		echo "rig: ****************************************************************"
	} >&2
	return 77
}

# rig__run_dir DIR: create (empty) and print the private /run of the rig in DIR. It depends
# only on DIR (see "Caveat" above) and must keep RUN/pcscd/pcscd.comm within sun_path.
rig__run_dir() {
	local dir=$1 run=$1/run sum
	if ((${#run} > 80)); then
		sum=$(printf '%s' "$dir" | cksum) || return 1
		run=/tmp/mfauth-rig-$EUID-${sum%% *}
	fi
	if [[ -L $run ]] || { [[ -e $run ]] && [[ ! -d $run || ! -O $run ]]; }; then
		rig__err "$run exists and is not our directory; refusing to use it"
		return 1
	fi
	rm -rf "$run/pcscd"                 # a stale socket of a killed rig
	[[ -d $run ]] || mkdir -m 0700 "$run" || return 1
	[[ -O $run && ! -L $run ]] || { rig__err "$run is not ours"; return 1; }
	echo "$run"
}

# rig__load_env DIR: source DIR/env into this shell.
rig__load_env() {
	[[ -r $1/env ]] || { rig__err "$1/env: no rig started in $1"; return 2; }
	# shellcheck disable=SC1091
	. "$1/env"
}

rig_start() {
	local dir=${1:?usage: rig_start DIR [--owner PID] [--keys KEYDIR] [--timeout MS]}
	shift
	local owner=${RIG__DEFAULT_OWNER:-$$} keys=${MFAUTH_RIG_KEYS:-} timeout=10000
	while (($#)); do
		case $1 in
		--owner) owner=$2; shift 2 ;;
		--keys) keys=$2; shift 2 ;;
		--timeout) timeout=$2; shift 2 ;;
		*) rig__err "start: unknown option $1"; return 2 ;;
		esac
	done
	[[ $owner =~ ^[0-9]+$ ]] || { rig__err "start: --owner needs a PID"; return 2; }
	rig__check_prereqs || return
	mkdir -p "$dir" || return 1
	dir=$(cd "$dir" && pwd) || return 1
	local kp
	if kp=$(rig__readpid "$dir/keeper.pid") && rig__alive "$kp"; then
		rig__err "start: a rig is already running in $dir (keeper $kp)"; return 1
	fi
	rm -f "$dir"/env "$dir"/*.pid
	local run mode w
	run=$(rig__run_dir "$dir") || return 1
	mode=$(rig__choose_mode "$run") || { local rc=$?; rm -rf "$run"; return $rc; }
	echo "$run" >"$dir/rundir"
	w=$(rig__helper "$dir") || return
	keys=${keys:-$dir/keys}
	# keys.json is written last: when it exists, the keys are complete (make_keys.py --force
	# regenerates)
	if [[ ! -e $keys/keys.json ]]; then
		"$RIG_PYTHON" "$RIG_HERE/make_keys.py" --key-dir "$keys" || {
			rig__err "make_keys.py failed (python3-cryptography missing?)"; return 99; }
	fi
	keys=$(cd "$keys" && pwd)

	local ns=() attempt port keeper rc readers
	case $mode in
	userns) ns=(unshare --user --map-root-user --mount --) ;;
	mountns) ns=(unshare --mount --) ;;
	host) ns=() ;;
	esac
	for ((attempt = 1; attempt <= 5; attempt++)); do
		port=$(rig__free_port_pair) || { rig__err "no free port pair"; return 1; }
		printf 'FRIENDLYNAME "%s"\nDEVICENAME /dev/null:%d\nLIBPATH %s\nCHANNELID %d\n' \
			"$RIG_READER_NAME" "$port" "$RIG_VPCD_LIB" "$port" >"$dir/reader.conf"
		local pre=()
		# sourced into the test shell itself: also tie the keeper to it (doc/testing.md)
		[[ ${RIG__SOURCED:-} && ${BASHPID:-$$} == "$$" ]] && pre=(setpriv --pdeathsig TERM --)
		if [[ $mode == host ]]; then
			env -u LISTEN_FDS -u LISTEN_PID -u NOTIFY_SOCKET "${pre[@]}" "$w" keep -o "$owner" \
				-f "$dir/pcscd.pid" -- "$RIG_PCSCD" --foreground -c "$dir/reader.conf" \
				</dev/null >"$dir/pcscd.log" 2>&1 &
		else
			# shellcheck disable=SC2016
			env -u LISTEN_FDS -u LISTEN_PID -u NOTIFY_SOCKET "${pre[@]}" "$w" keep -o "$owner" \
				-f "$dir/pcscd.pid" -- "${ns[@]}" /bin/sh -c '
					mount --bind "$1" /run || exit 1
					if [ -d /dev/bus/usb ]; then
						mount -t tmpfs -o size=4k,mode=0755 none /dev/bus/usb || exit 1
					fi
					exec "$2" --foreground -c "$3"' sh "$run" "$RIG_PCSCD" "$dir/reader.conf" \
				</dev/null >"$dir/pcscd.log" 2>&1 &
		fi
		keeper=$!
		echo "$keeper" >"$dir/keeper.pid"
		export PCSCLITE_CSOCK_NAME
		if [[ $mode == host ]]; then
			PCSCLITE_CSOCK_NAME=/run/pcscd/pcscd.comm
		else
			PCSCLITE_CSOCK_NAME=$run/pcscd/pcscd.comm
		fi
		readers=$("$w" ready -t "$timeout" -p "$keeper" "$RIG_READER_NAME")
		rc=$?
		((rc == 0)) && break
		rig__stop_pids "$dir" "$w" "$keeper" "$(rig__readpid "$dir/pcscd.pid")"
		if ((rc != 4)); then
			rig__err "pcscd did not come up (mode $mode, wait_card status $rc); $dir/pcscd.log:"
			sed 's/^/rig:   /' "$dir/pcscd.log" >&2
			rm -rf "$run"
			return 1
		fi
		rig__err "vpcd could not use ports $port/$((port + 1)); trying another pair"
	done
	if ((rc != 0)); then
		rig__err "giving up after $((attempt - 1)) port pairs"; rm -rf "$run"; return 1
	fi
	local r0 r1
	r0=$(grep -m1 -x "$RIG_READER_NAME 00 00" <<<"$readers")
	r1=$(grep -m1 -x "$RIG_READER_NAME 00 01" <<<"$readers")
	{
		printf 'export PCSCLITE_CSOCK_NAME=%q\n' "$PCSCLITE_CSOCK_NAME"
		printf 'export MFAUTH_RIG_DIR=%q\n' "$dir"
		printf 'export MFAUTH_RIG_MODE=%q\n' "$mode"
		printf 'export MFAUTH_RIG_PORT=%q\n' "$port"
		printf 'export MFAUTH_RIG_READER0=%q\n' "$r0"
		printf 'export MFAUTH_RIG_READER1=%q\n' "$r1"
		printf 'export MFAUTH_RIG_KEYS=%q\n' "$keys"
		printf 'export MFAUTH_WAIT_CARD=%q\n' "$w"
	} >"$dir/env.tmp" && mv "$dir/env.tmp" "$dir/env" && rig__load_env "$dir"
}

# rig__stop_pids DIR WAIT_CARD PID...: TERM the PIDs, wait until gone (KILL after 5 s), reap ours.
rig__stop_pids() {
	local dir=$1 w=$2 p live=()
	shift 2
	for p in "$@"; do
		[[ -n $p ]] && rig__alive "$p" && live+=("$p")
	done
	((${#live[@]})) || { rig__reap "$@"; return 0; }
	kill -TERM "${live[@]}" 2>/dev/null
	if ! "$w" gone -t 5000 "${live[@]}"; then
		rig__err "still running after TERM, killing: ${live[*]}"
		kill -KILL "${live[@]}" 2>/dev/null
		"$w" gone -t 2000 "${live[@]}"
	fi
	rig__reap "$@"
}

# rig__reap PID...: collect the exit status of those PIDs that are children of this shell.
rig__reap() {
	local p
	for p in "$@"; do
		# "|| :": a reaped status is never an error, even under set -e.
		[[ -n $p ]] && { wait "$p" 2>/dev/null || :; }
	done
	return 0
}

rig_card() {
	local dir=${1:?usage: rig_card DIR PROFILE [--slot N] [--timeout MS] [vcard options]}
	local profile=${2:?usage: rig_card DIR PROFILE [--slot N] [--timeout MS] [vcard options]}
	shift 2
	local slot=0 timeout=10000 pass=() have_state="" identity=main
	while (($#)); do
		case $1 in
		--slot) slot=$2; shift 2 ;;
		--timeout) timeout=$2; shift 2 ;;
		--state) have_state=1; pass+=("$1" "$2"); shift 2 ;;
		--identity) identity=$2; pass+=("$1" "$2"); shift 2 ;;
		*) pass+=("$1"); shift ;;
		esac
	done
	case $profile in jpki | piv-rsa | piv-ec) ;; *) rig__err "card: unknown profile $profile"; return 2 ;; esac
	case $slot in 0 | 1) ;; *) rig__err "card: --slot must be 0 or 1"; return 2 ;; esac
	rig__load_env "$dir" || return
	local old reader pid rc state_opt=()
	if old=$(rig__readpid "$dir/card$slot.pid") && rig__alive "$old"; then
		rig__err "card: slot $slot already holds a card (pid $old); rig.sh remove first"; return 1
	fi
	reader=MFAUTH_RIG_READER$slot
	reader=${!reader}
	# a card that just exited by itself (--pull-after-apdus) may still look present for up to
	# 400 ms: the new card must not be mistaken for it
	"$MFAUTH_WAIT_CARD" absent -t 2000 "$reader" || {
		rig__err "card: \"$reader\" still holds a card"; return 1; }
	# the default state file is per card, so a restarted card keeps its PIN tries
	if [[ -z $have_state ]]; then
		state_opt=(--state "$dir/state.$profile")
		[[ $identity == main ]] || state_opt[1]+=".$identity"
	fi
	"$RIG_PYTHON" "$RIG_HERE/vcard.py" --port $((MFAUTH_RIG_PORT + slot)) --profile "$profile" \
		--key-dir "$MFAUTH_RIG_KEYS" --log "$dir/card$slot.log" "${state_opt[@]}" "${pass[@]}" \
		</dev/null >>"$dir/card$slot.out" 2>&1 &
	pid=$!
	echo "$pid" >"$dir/card$slot.pid"
	"$MFAUTH_WAIT_CARD" present -t "$timeout" -p "$pid" "$reader"
	rc=$?
	if ((rc != 0)); then
		rig__err "card $profile did not appear in \"$reader\" (wait_card status $rc); $dir/card$slot.out:"
		tail -n 20 "$dir/card$slot.out" | sed 's/^/rig:   /' >&2
		rig__stop_pids "$dir" "$MFAUTH_WAIT_CARD" "$pid"
		return 1
	fi
}

rig_remove() {
	local dir=${1:?usage: rig_remove DIR [--slot N] [--timeout MS]}
	shift
	local slot=0 timeout=5000 pid reader
	while (($#)); do
		case $1 in
		--slot) slot=$2; shift 2 ;;
		--timeout) timeout=$2; shift 2 ;;
		*) rig__err "remove: unknown option $1"; return 2 ;;
		esac
	done
	rig__load_env "$dir" || return
	reader=MFAUTH_RIG_READER$slot
	reader=${!reader}
	pid=$(rig__readpid "$dir/card$slot.pid")
	rig__stop_pids "$dir" "$MFAUTH_WAIT_CARD" "$pid"
	rm -f "$dir/card$slot.pid"
	"$MFAUTH_WAIT_CARD" absent -t "$timeout" "$reader"
}

rig_stop() {
	local dir=${1:?usage: rig_stop DIR}
	local w pids=() p f run stray=()
	[[ -d $dir ]] || { rig__err "stop: no directory $dir"; return 2; }
	w=$(rig__helper "$dir") || return
	for f in "$dir"/card*.pid "$dir/pcscd.pid" "$dir/keeper.pid"; do
		p=$(rig__readpid "$f") && pids+=("$p")
	done
	rig__stop_pids "$dir" "$w" "${pids[@]}"
	for p in "${pids[@]}"; do
		rig__alive "$p" && stray+=("$p")
	done
	if [[ -r $dir/rundir ]] && read -r run <"$dir/rundir" &&
		[[ $run == "$dir/run" || $run == /tmp/mfauth-rig-* ]]; then
		rm -rf "$run"
	fi
	rm -f "$dir"/*.pid "$dir/env" "$dir/rundir"
	if ((${#stray[@]})); then
		rig__err "stop: processes still running: ${stray[*]}"; return 1
	fi
}

rig_exec() {
	local dir=${1:?usage: rig_exec DIR -- CMD...}
	shift
	[[ ${1:-} == -- ]] && shift
	(($#)) || { rig__err "exec: no command"; return 2; }
	rig__load_env "$dir" || return
	exec "$@"
}

rig_run() {
	local dir=${1:?usage: rig_run DIR [start options] -- CMD...}
	shift
	local opts=()
	while (($#)) && [[ $1 != -- ]]; do opts+=("$1"); shift; done
	[[ ${1:-} == -- ]] && shift
	(($#)) || { rig__err "run: no command"; return 2; }
	rig_start "$dir" --owner "$$" "${opts[@]}" || return
	local rc
	( rig__load_env "$dir" && "$@" )
	rc=$?
	rig_stop "$dir" || { ((rc == 0)) && rc=1; }
	return $rc
}

rig__main() {
	local cmd=${1:-}
	shift || true
	RIG__DEFAULT_OWNER=$PPID
	case $cmd in
	start) rig_start "$@" ;;
	card) rig_card "$@" ;;
	remove) rig_remove "$@" ;;
	stop) rig_stop "$@" ;;
	exec) rig_exec "$@" ;;
	run) RIG__DEFAULT_OWNER=$$ rig_run "$@" ;;
	*)
		sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
		return 2
		;;
	esac
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	rig__main "$@"
	exit
fi
RIG__SOURCED=1
