# slapd-rig.sh - a private OpenLDAP server (slapd 2.5) for mfauth's directory tests (sourced, bash).
#
#   . tests/ldap/slapd-rig.sh
#   ldap_rig_start DIR          start one in DIR (created; a temp directory of the test)
#   . DIR/env                   the exports below, for this shell and its children
#   ...                         tests: ldapsearch/ldapmodify or a C program reading the env
#   ldap_rig_stop DIR           stop it (also done on exit: see "Lifetimes")
#   ldap_rig_restart DIR        stop, then start the same database on the same ports
#   ldap_rig_blackhole DIR      a port that accepts connections and never answers
#                               (LDAP_RIG_BLACKHOLE_PORT)
#   ldap_rig_closed_port        a loopback port with nothing listening on it
#   ldap_rig_serve DIR          for a test in another language: start, then obey "stop" and
#                               "start" lines on stdin; stop at the end of stdin ("Lifetimes")
#
# What runs: slapd -f DIR/slapd.conf, a slapd.conf-style file (no cn=config tree to build) that
# includes core, cosine, inetorgperson, the shipped share/ldap/mfauth.schema and, inside the mdb
# database (DIR/db), the shipped share/ldap/mfauth-acl.conf unchanged: the rig uses the DNs the
# sample ACL names.  It listens on loopback only:
#   ldap://127.0.0.1:PORT/    (StartTLS offered)      LDAP_RIG_URI_LDAP
#   ldaps://127.0.0.1:PORT/                          LDAP_RIG_URI_LDAPS
#   ldapi://SOCKET            (DIR/ldapi, or a short /tmp path if DIR is too long)  LDAP_RIG_URI_LDAPI
# with a certificate for 127.0.0.1 and localhost issued by a CA generated here (LDAP_RIG_CA);
# LDAP_RIG_OTHER_CA is a second CA that did not issue it (the wrong-CA tests).
# slapd logs each operation to syslog (its default loglevel, stats); a test that reads a private
# /dev/log (tests/sinkrun) and wants only its own lines there sets LDAP_RIG_LOGLEVEL (slapd.conf's
# loglevel, e.g. 0) before ldap_rig_start: the sink's datagram socket queues 10 lines, and a burst
# of slapd's can make a sender that does not wait (the module's audit) drop its line.
#
# The directory (DIR/data.ldif, loaded with slapadd before the start):
#   dc=example,dc=lg,dc=jp                                  LDAP_RIG_SUFFIX
#     cn=admin  (root DN, password LDAP_RIG_ROOTPW; bypasses all ACLs)  LDAP_RIG_ROOTDN
#     ou=mfauth        the fleet store's base, empty         LDAP_RIG_BASE
#     ou=terminals     cn=terminal-01 .. cn=terminal-04      LDAP_RIG_TERM_DN_1 .. _4, LDAP_RIG_TERM_PW
#     ou=staff         cn=staff-01                           LDAP_RIG_STAFF_DN, LDAP_RIG_STAFF_PW
#     ou=people        cn=clerk-01, in no group              LDAP_RIG_OTHER_DN, LDAP_RIG_OTHER_PW
#     ou=groups        cn=mfauth-terminals (the 4 terminals), cn=mfauth-staff (the staff account)
#   Accounts are `person` entries with a cleartext userPassword (test passwords only).
#
# Lifetimes: slapd runs in the foreground (-d 0) as a background job of the shell that called
# ldap_rig_start, under `setpriv --pdeathsig TERM`: if that shell dies, slapd gets SIGTERM.  So
# call ldap_rig_start in the test's own shell, not in $(...) or a pipeline.  ldap_rig_start also
# adds ldap_rig_cleanup to the shell's EXIT trap (keeping a trap already set), which stops every
# rig and black hole this shell started, by the pid in their pidfiles.  Nothing is killed by name.
# A test that is not a shell script (tests/clients/directory.py) runs `bash -c '. slapd-rig.sh;
# ldap_rig_serve DIR'` with a pipe on its stdin: the end of that pipe -- the test closing it, or
# dying -- ends the shell, whose EXIT trap stops slapd; killed, the shell still runs the trap
# (SIGTERM), or its death sends slapd the parent-death SIGTERM.
#
# Logging: slapd's debug output goes to DIR/slapd.log; LDAP_RIG_SLAPD_DEBUG (set before
# ldap_rig_start) is its -d level, 0 (none) by default -- "stats" logs one line per operation and
# result ("conn=N op=M SRCH ...", "... SEARCH RESULT ... text=..."), for tests that assert on what
# the server saw.
#
# Measured here (2 cores, slapd 2.5.13): slapd answers ~50 ms after it is started; the whole
# start (keys, slapadd, start, first answer) takes well under a second.
#
# Return status: 0 ok, 1 failed (the messages say why), 99 a prerequisite is missing.

LDAP_RIG_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LDAP_RIG_TOP=${MFAUTH_SRCDIR:-$(cd "$LDAP_RIG_HERE/../.." && pwd)}
LDAP_RIG_SLAPD=${MFAUTH_SLAPD:-/usr/sbin/slapd}
LDAP_RIG_SLAPADD=/usr/sbin/slapadd
LDAP_RIG_PYTHON=/usr/bin/python3
LDAP_RIG_SCHEMA_DIR=/etc/ldap/schema
LDAP_RIG_STARTED=()

ldap_rig__err() { printf 'slapd-rig: %s\n' "$*" >&2; }

ldap_rig__check_prereqs() {
	local missing=() f
	for f in "$LDAP_RIG_SLAPD" "$LDAP_RIG_SLAPADD" /usr/bin/ldapsearch /usr/bin/openssl \
		/usr/bin/setpriv "$LDAP_RIG_PYTHON"; do
		[[ -x $f ]] || missing+=("$f")
	done
	for f in core cosine inetorgperson; do
		[[ -r $LDAP_RIG_SCHEMA_DIR/$f.schema ]] || missing+=("$LDAP_RIG_SCHEMA_DIR/$f.schema")
	done
	[[ -r /usr/lib/ldap/back_mdb.la ]] || missing+=(/usr/lib/ldap/back_mdb.la)
	if ((${#missing[@]})); then
		ldap_rig__err "missing (apt-get install slapd ldap-utils openssl util-linux python3): ${missing[*]}"
		return 99
	fi
}

# ldap_rig__alive PID: true if PID runs (a zombie does not count).
ldap_rig__alive() {
	local state
	[[ $1 =~ ^[0-9]+$ && -r /proc/$1/stat ]] || return 1
	state=$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ -n $state && $state != Z && $state != X ]]
}

ldap_rig__readpid() { [[ -r $1 ]] && read -r _pid <"$1" && [[ $_pid =~ ^[0-9]+$ ]] && echo "$_pid"; }

# ldap_rig__listening: the TCP ports something listens on (decimal, one a line; mawk has no
# strtonum, so bash converts the hex).
ldap_rig__listening() {
	local sl local_addr rest st
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | while read -r sl local_addr rest; do
		st=${rest#* }
		[[ ${st%% *} == 0A ]] && echo $((16#${local_addr##*:}))
	done | sort -u
}

# ldap_rig__free_ports N: N distinct loopback TCP ports nobody listens on (one a line), below
# the kernel's ephemeral range (net.ipv4.ip_local_port_range, 32768 up by default): a port in it
# can be the local end of any outgoing connection -- the suite makes thousands -- which no list of
# listeners shows and on which slapd's bind fails (CI: test-ldap-failover.sh's first provider,
# its ports fixed in two configurations, did not start twice in a row).  A race with another
# listener is caught when slapd cannot bind (ldap_rig_start then tries new ports).
ldap_rig__free_ports() {
	local n=$1 used port i got=() low
	low=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
	[[ $low =~ ^[0-9]+$ ]] && ((low > 21000)) || low=32768
	used=$(ldap_rig__listening)
	for ((i = 0; i < 200 && ${#got[@]} < n; i++)); do
		port=$((20000 + RANDOM % (low - 20000)))
		grep -qx -e "$port" <<<"$used" && continue
		[[ " ${got[*]} " == *" $port "* ]] && continue
		got+=("$port")
	done
	((${#got[@]} == n)) || return 1
	printf '%s\n' "${got[@]}"
}

# ldap_rig_closed_port: print a loopback port with nothing listening (connect gets RST).
ldap_rig_closed_port() { ldap_rig__free_ports 1; }

# ldap_rig__keys DIR: a CA, a server certificate for 127.0.0.1/localhost, and a second CA.
ldap_rig__keys() {
	local d=$1/tls
	mkdir -p "$d" || return 1
	(
		set -e
		cd "$d"
		for ca in ca other-ca; do
			openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
				-keyout "$ca.key" -out "$ca.pem" -days 2 -subj "/CN=mfauth test $ca" \
				-addext basicConstraints=critical,CA:TRUE \
				-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
		done
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout server.key -out server.csr -subj /CN=localhost 2>/dev/null
		printf '%s\n' 'subjectAltName=IP:127.0.0.1,DNS:localhost' \
			'extendedKeyUsage=serverAuth' 'basicConstraints=CA:FALSE' >server.ext
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
			-days 2 -extfile server.ext -out server.pem 2>/dev/null
		chmod 600 ./*.key
	) || { ldap_rig__err "openssl could not make the test certificates in $d"; return 1; }
}

ldap_rig__conf() {
	local dir=$1
	cat >"$dir/slapd.conf" <<EOF
# Written by tests/ldap/slapd-rig.sh: a private slapd for one test.
include		$LDAP_RIG_SCHEMA_DIR/core.schema
include		$LDAP_RIG_SCHEMA_DIR/cosine.schema
include		$LDAP_RIG_SCHEMA_DIR/inetorgperson.schema
include		$LDAP_RIG_TOP/share/ldap/mfauth.schema
pidfile		$dir/slapd.pid
argsfile	$dir/slapd.args
modulepath	/usr/lib/ldap
moduleload	back_mdb
TLSCACertificateFile	$dir/tls/ca.pem
TLSCertificateFile	$dir/tls/server.pem
TLSCertificateKeyFile	$dir/tls/server.key
${LDAP_RIG_LOGLEVEL:+loglevel	$LDAP_RIG_LOGLEVEL}

database	mdb
suffix		"dc=example,dc=lg,dc=jp"
rootdn		"cn=admin,dc=example,dc=lg,dc=jp"
rootpw		$LDAP_RIG_ROOTPW
directory	$dir/db
maxsize		268435456
index		objectClass,cn eq
include		$LDAP_RIG_TOP/share/ldap/mfauth-acl.conf
# The rest of this test directory: nothing for anybody (the ACL file must stand on its own).
access to * by * none
EOF
}

ldap_rig__data() {
	local dir=$1 s=dc=example,dc=lg,dc=jp i
	{
		printf 'dn: %s\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: mfauth test\n\n' "$s"
		for ou in mfauth terminals staff people groups; do
			printf 'dn: ou=%s,%s\nobjectClass: organizationalUnit\nou: %s\n\n' "$ou" "$s" "$ou"
		done
		for i in 1 2 3 4; do
			printf 'dn: cn=terminal-0%d,ou=terminals,%s\nobjectClass: person\ncn: terminal-0%d\n' "$i" "$s" "$i"
			printf 'sn: terminal\nuserPassword: %s\n\n' "$LDAP_RIG_TERM_PW"
		done
		printf 'dn: cn=staff-01,ou=staff,%s\nobjectClass: person\ncn: staff-01\nsn: staff\n' "$s"
		printf 'userPassword: %s\n\n' "$LDAP_RIG_STAFF_PW"
		printf 'dn: cn=clerk-01,ou=people,%s\nobjectClass: person\ncn: clerk-01\nsn: clerk\n' "$s"
		printf 'userPassword: %s\n\n' "$LDAP_RIG_OTHER_PW"
		printf 'dn: cn=mfauth-terminals,ou=groups,%s\nobjectClass: groupOfNames\ncn: mfauth-terminals\n' "$s"
		for i in 1 2 3 4; do
			printf 'member: cn=terminal-0%d,ou=terminals,%s\n' "$i" "$s"
		done
		printf '\ndn: cn=mfauth-staff,ou=groups,%s\nobjectClass: groupOfNames\ncn: mfauth-staff\n' "$s"
		printf 'member: cn=staff-01,ou=staff,%s\n' "$s"
	} >"$dir/data.ldif"
}

# ldap_rig__socket DIR: the ldapi socket path (sun_path holds 107 bytes).
ldap_rig__socket() {
	local sock=$1/ldapi sum
	if ((${#sock} > 90)); then
		sum=$(printf '%s' "$1" | cksum)
		sock=/tmp/mfauth-ldapi-$EUID-${sum%% *}
	fi
	echo "$sock"
}

ldap_rig__env() {
	local dir=$1 sock_url i
	sock_url=$(sed 's|/|%2F|g' <<<"$LDAP_RIG_SOCKET")
	{
		printf 'export LDAP_RIG_DIR=%q\n' "$dir"
		printf 'export LDAP_RIG_URI_LDAP=%q\n' "ldap://127.0.0.1:$LDAP_RIG_PORT_LDAP/"
		printf 'export LDAP_RIG_URI_LDAPS=%q\n' "ldaps://127.0.0.1:$LDAP_RIG_PORT_LDAPS/"
		printf 'export LDAP_RIG_URI_LDAPI=%q\n' "ldapi://$sock_url/"
		printf 'export LDAP_RIG_PORT_LDAP=%q LDAP_RIG_PORT_LDAPS=%q\n' \
			"$LDAP_RIG_PORT_LDAP" "$LDAP_RIG_PORT_LDAPS"
		printf 'export LDAP_RIG_CA=%q LDAP_RIG_OTHER_CA=%q\n' "$dir/tls/ca.pem" "$dir/tls/other-ca.pem"
		printf 'export LDAP_RIG_SUFFIX=dc=example,dc=lg,dc=jp\n'
		printf 'export LDAP_RIG_BASE=ou=mfauth,dc=example,dc=lg,dc=jp\n'
		printf 'export LDAP_RIG_ROOTDN=cn=admin,dc=example,dc=lg,dc=jp LDAP_RIG_ROOTPW=%q\n' "$LDAP_RIG_ROOTPW"
		for i in 1 2 3 4; do
			printf 'export LDAP_RIG_TERM_DN_%d=cn=terminal-0%d,ou=terminals,dc=example,dc=lg,dc=jp\n' "$i" "$i"
		done
		printf 'export LDAP_RIG_TERM_PW=%q\n' "$LDAP_RIG_TERM_PW"
		printf 'export LDAP_RIG_STAFF_DN=cn=staff-01,ou=staff,dc=example,dc=lg,dc=jp LDAP_RIG_STAFF_PW=%q\n' \
			"$LDAP_RIG_STAFF_PW"
		printf 'export LDAP_RIG_OTHER_DN=cn=clerk-01,ou=people,dc=example,dc=lg,dc=jp LDAP_RIG_OTHER_PW=%q\n' \
			"$LDAP_RIG_OTHER_PW"
		# The command-line tools read this (empty) file instead of /etc/ldap/ldap.conf.  Not
		# LDAPNOINIT: that also makes libldap ignore LDAPTLS_* variables, which the tests use.
		printf 'export LDAPCONF=%q\n' "$dir/ldap.conf"
	} >"$dir/env"
	: >"$dir/ldap.conf"
}

# ldap_rig__launch DIR: start slapd on the ports in DIR/ports and wait until it answers.
ldap_rig__launch() {
	local dir=$1 i t0 t1 pid
	read -r LDAP_RIG_PORT_LDAP LDAP_RIG_PORT_LDAPS <"$dir/ports" || return 1
	LDAP_RIG_SOCKET=$(ldap_rig__socket "$dir")
	rm -f "$LDAP_RIG_SOCKET" "$dir/slapd.pid"
	local sock_url
	sock_url=$(sed 's|/|%2F|g' <<<"$LDAP_RIG_SOCKET")
	t0=$(date +%s%N)
	setpriv --pdeathsig TERM -- "$LDAP_RIG_SLAPD" -d "${LDAP_RIG_SLAPD_DEBUG:-0}" -f "$dir/slapd.conf" \
		-h "ldap://127.0.0.1:$LDAP_RIG_PORT_LDAP/ ldaps://127.0.0.1:$LDAP_RIG_PORT_LDAPS/ ldapi://$sock_url/" \
		</dev/null >>"$dir/slapd.log" 2>&1 &
	pid=$!
	echo "$pid" >"$dir/slapd.job"
	# Up to 30 s: it answers in ~50 ms on an idle machine, but a loaded one (make -j2 check
	# beside other builds, load average 6-10) once took longer than the 500 tries of 10 ms
	# this loop used to count, and the test failed for the wait, not for slapd.
	local until=$((SECONDS + 30))
	while ((SECONDS < until)); do
		if LDAPNOINIT=1 ldapsearch -x -H "ldapi://$sock_url/" -s base -b '' -LLL 1.1 \
			>/dev/null 2>&1; then
			t1=$(date +%s%N)
			echo "$(((t1 - t0) / 1000000))" >"$dir/start-ms"
			return 0
		fi
		ldap_rig__alive "$pid" || break
		sleep 0.01
	done
	ldap_rig__err "slapd did not answer on $dir (log: $dir/slapd.log):"
	tail -n 5 "$dir/slapd.log" >&2
	ldap_rig__kill "$pid"
	return 1
}

# ldap_rig__kill PID: SIGTERM, wait up to 5 s, then SIGKILL.
ldap_rig__kill() {
	local pid=$1 i
	ldap_rig__alive "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 500; i++)); do
		ldap_rig__alive "$pid" || { wait "$pid" 2>/dev/null; return 0; }
		sleep 0.01
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

ldap_rig_start() {
	local dir=${1:?usage: ldap_rig_start DIR} pid
	ldap_rig__check_prereqs || return
	mkdir -p "$dir" && dir=$(cd "$dir" && pwd) || return 1
	if pid=$(ldap_rig__readpid "$dir/slapd.job") && ldap_rig__alive "$pid"; then
		ldap_rig__err "a slapd already runs in $dir (pid $pid)"; return 1
	fi
	LDAP_RIG_ROOTPW=root-$RANDOM$RANDOM
	LDAP_RIG_TERM_PW=terminal-$RANDOM$RANDOM
	LDAP_RIG_STAFF_PW=staff-$RANDOM$RANDOM
	LDAP_RIG_OTHER_PW=clerk-$RANDOM$RANDOM
	ldap_rig__keys "$dir" || return 1
	ldap_rig__conf "$dir"
	ldap_rig__data "$dir"
	rm -rf "$dir/db" && mkdir -m 700 "$dir/db" || return 1
	"$LDAP_RIG_SLAPADD" -q -f "$dir/slapd.conf" -l "$dir/data.ldif" >"$dir/slapadd.log" 2>&1 || {
		ldap_rig__err "slapadd failed:"; cat "$dir/slapadd.log" >&2; return 1; }
	ldap_rig__trap
	local try ports
	for try in 1 2 3 4 5; do
		ports=$(ldap_rig__free_ports 2 | tr '\n' ' ') || { ldap_rig__err "no free port"; return 1; }
		echo "$ports" >"$dir/ports"
		if ldap_rig__launch "$dir"; then
			LDAP_RIG_STARTED+=("$dir")
			ldap_rig__env "$dir"
			return 0
		fi
		grep -q 'Address already in use\|bind.*failed' "$dir/slapd.log" || return 1
	done
	return 1
}

# ldap_rig_stop DIR: stop the slapd of DIR (by its pid) and wait until it is gone.
ldap_rig_stop() {
	local dir=${1:?usage: ldap_rig_stop DIR} pid
	pid=$(ldap_rig__readpid "$dir/slapd.job") || return 0
	ldap_rig__kill "$pid"
	rm -f "$dir/slapd.job"
}

# ldap_rig_restart DIR: the same database, ports and certificates, a new process.
ldap_rig_restart() {
	local dir=${1:?usage: ldap_rig_restart DIR}
	ldap_rig_stop "$dir"
	ldap_rig__launch "$dir"
}

# ldap_rig_blackhole DIR: listen on a loopback port, accept every connection and never answer
# (nor close).  Sets LDAP_RIG_BLACKHOLE_PORT (and writes DIR/blackhole.port); not in $(...),
# whose subshell's exit would end the listener (pdeathsig).  Stopped by ldap_rig_cleanup.
ldap_rig_blackhole() {
	local dir=${1:?usage: ldap_rig_blackhole DIR} port pid i
	mkdir -p "$dir" || return 1
	port=$(ldap_rig__free_ports 1) || return 1
	ldap_rig__trap
	setpriv --pdeathsig TERM -- "$LDAP_RIG_PYTHON" -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
held = []
while True:
    c, _ = s.accept()
    held.append(c)        # keep it open, say nothing
' "$port" </dev/null >"$dir/blackhole.log" 2>&1 &
	pid=$!
	echo "$pid" >>"$dir/blackhole.jobs"
	LDAP_RIG_BLACKHOLES+=("$pid")
	for ((i = 0; i < 300; i++)); do
		if ldap_rig__listening | grep -qx "$port"; then
			LDAP_RIG_BLACKHOLE_PORT=$port
			echo "$port" >"$dir/blackhole.port"
			return 0
		fi
		ldap_rig__alive "$pid" || break
		sleep 0.01
	done
	ldap_rig__err "the black hole did not listen (log: $dir/blackhole.log)"
	return 1
}

# ldap_rig_serve DIR: start a rig in DIR, then print "ready" (DIR/env is written) or "fail N"
# (N: ldap_rig_start's status, returned).  Then one command a line on stdin, each answered on
# stdout with "ok" or "fail": "stop" (slapd ends; the directory is unreachable), "start" (the same
# database, ports and certificates again).  At the end of stdin, slapd is stopped and it returns.
ldap_rig_serve() {
	local dir=${1:?usage: ldap_rig_serve DIR} cmd rc
	ldap_rig_start "$dir"
	rc=$?
	if ((rc != 0)); then
		echo "fail $rc"
		return $rc
	fi
	echo ready
	while read -r cmd; do
		case $cmd in
		stop) ldap_rig_stop "$dir" && echo ok || echo fail ;;
		start) ldap_rig__launch "$dir" && echo ok || echo fail ;;
		*) echo "fail: no command '$cmd'" ;;
		esac
	done
	ldap_rig_cleanup
}

# ldap_rig_cleanup: stop every rig and black hole this shell started.
ldap_rig_cleanup() {
	local dir pid
	for dir in "${LDAP_RIG_STARTED[@]}"; do
		ldap_rig_stop "$dir"
	done
	for pid in "${LDAP_RIG_BLACKHOLES[@]}"; do
		ldap_rig__kill "$pid"
	done
	LDAP_RIG_STARTED=()
	LDAP_RIG_BLACKHOLES=()
}

# Add ldap_rig_cleanup to this shell's EXIT trap once, after whatever is there.
ldap_rig__trap() {
	[[ ${LDAP_RIG_TRAPPED:-} == $$ ]] && return 0
	local old
	old=$(trap -p EXIT)
	old=${old#trap -- \'}
	old=${old%\' EXIT}
	# shellcheck disable=SC2064
	trap "${old:+$old; }ldap_rig_cleanup" EXIT
	LDAP_RIG_TRAPPED=$$
}
LDAP_RIG_BLACKHOLES=()
