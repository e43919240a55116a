#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# nf_conntrack_ftp_rs limits, counters and hostile input: the per-namespace
# sysctls (range checks, per-master limit, timeout), the sysfs counters,
# a full expectation table, bounces, 64 KiB lines, thousands of commands,
# commands split at every byte, random bytes on port 21, and unloading the
# module while sessions are open.

source "$(dirname "$0")/ftp_lib.sh"
trap ftp_cleanup EXIT

require_cmd nft conntrack python3 ss
modprobe -r nf_conntrack_ftp 2>/dev/null
modprobe nf_conntrack || skip "no nf_conntrack"
rnm_insmod nf_conntrack_ftp_rs

SYS=/sys/kernel/nf_conntrack_ftp_rs
SC=/proc/sys/net/netfilter/nf_conntrack_ftp_rs
EXPECT_MAX=/proc/sys/net/netfilter/nf_conntrack_expect_max
counter() { cat "$SYS/$1"; }
# rsc NS FILE [VALUE]: read or write a sysctl of the helper in NS.
rsc() {
	if [ $# = 2 ]; then
		nsx "$1" cat "$SC/$2"
	else
		nsx "$1" sh -c "printf '%s' '$3' >$SC/$2"
	fi
}
expect_count_is() {
	[ "$(ftp_expect_count)" -eq "$1" ]
}
# expect_port_listed PORT: the router has an expectation for PORT.
expect_port_listed() { ftp_expect_list | grep -q "dport=$1 "; }

ftp_topology
ftp_firewall ftp
nsx "$NS_S" python3 "$FTP_PEER" echo-server $E4 >/dev/null 2>&1 &
nsx "$NS_S" python3 "$FTP_PEER" echo-server $E6 >/dev/null 2>&1 &
busywait 30000 ftp_listening 2 || die "echo servers not listening"

# sysfs counters: present, numbers, read-only.
for f in expect_created expect_evicted bounce_refused table_full expect_failed parse_errors; do
	[[ "$(counter $f)" =~ ^[0-9]+$ ]] || fail "$SYS/$f is not a counter"
	write_rejected "$SYS/$f" 5 "Permission denied"
done

# Sysctls: per namespace, defaults, range checks.
check_eq "max_expected default" "$(rsc "$NS_R" max_expected)" 1
check_eq "expect_timeout default" "$(rsc "$NS_R" expect_timeout)" 300
for v in 0 256 -1 abc 1x 99999999999; do
	nsx "$NS_R" bash -c "source ./lib.sh; write_rejected $SC/max_expected '$v'; exit \$RET" ||
		fail "max_expected accepted '$v'"
done
for v in 0 86401 -5 x; do
	nsx "$NS_R" bash -c "source ./lib.sh; write_rejected $SC/expect_timeout '$v'; exit \$RET" ||
		fail "expect_timeout accepted '$v'"
done
rsc "$NS_R" max_expected 3 || fail "max_expected 3 rejected"
rsc "$NS_R" expect_timeout 120 || fail "expect_timeout 120 rejected"
check_eq "max_expected in the router" "$(rsc "$NS_R" max_expected)" 3
check_eq "max_expected in another namespace" "$(rsc "$NS_C" max_expected)" 1
check_eq "max_expected in the initial namespace" "$(cat $SC/max_expected)" 1

# Per-master limit 3: five PORTs leave the last three, two evicted; the
# control connection answers every command.
created=$(counter expect_created)
evicted=$(counter expect_evicted)
t0=$SECONDS
ftp_session five $E4 42001 "USER anonymous" "PORT 10,0,1,2,117,1" "PORT 10,0,1,2,117,2" \
	"PORT 10,0,1,2,117,3" "PORT 10,0,1,2,117,4" "PORT 10,0,1,2,117,5"
check_eq "replies in the limited session" "$(grep -c '^200' "$FTP_TMP/session-five.out")" 6
busywait 10000 expect_count_is 3 || fail "expectations with max_expected=3: $(ftp_expect_count), want 3"
ftp_expect_list | grep -q 'dport=29957 ' || fail "newest expectation missing"
ftp_expect_list | grep -q 'dport=29953 ' && fail "oldest expectation not evicted"
check_eq "expect_created" "$(counter expect_created)" $((created + 5))
check_eq "expect_evicted" "$(counter expect_evicted)" $((evicted + 2))
# The timeout applies to new expectations (the registered policy has 300),
# from their creation: 120 s less the time since the session began.
t=$(ftp_expect_raw | awk '/dport=29957 /{print $1}')
tmin=$((120 - (SECONDS - t0) - 1))
[ -n "$t" ] && [ "$t" -le 120 ] && [ "$t" -ge "$tmin" ] ||
	fail "expectation timeout '$t', want $tmin..120"
ftp_release five
ftp_expect_flush
rsc "$NS_R" max_expected 1
rsc "$NS_R" expect_timeout 300

# A full global expectation table: the command is dropped (as by
# nf_conntrack_ftp) and counted, and passes once there is room again.
old_max=$(cat $EXPECT_MAX)
echo 2 >$EXPECT_MAX || fail "cannot lower nf_conntrack_expect_max"
full=$(counter table_full)
ftp_session f1 $E4 42011 "USER anonymous" "PORT 10,0,1,2,118,1"
ftp_session f2 $E4 42012 "USER anonymous" "PORT 10,0,1,2,118,2"
rm -f "$FTP_TMP/hold-f3"
nsx "$NS_C" python3 "$FTP_PEER" session $E4 42013 "$FTP_TMP/hold-f3" "USER anonymous" \
	"PORT 10,0,1,2,118,3" >"$FTP_TMP/session-f3.out" 2>&1 &
busywait 30000 sh -c "[ \$(cat $SYS/table_full) -gt $full ]" || fail "table_full did not move"
grep -q HOLDING "$FTP_TMP/session-f3.out" && fail "command passed a full table"
echo "$old_max" >$EXPECT_MAX
busywait 60000 grep -q HOLDING "$FTP_TMP/session-f3.out" ||
	fail "control connection stuck after the table had room again"
busywait 10000 expect_count_is 3 || fail "expectations after the table had room: $(ftp_expect_count)"
for t in f1 f2 f3; do ftp_release $t; done
ftp_expect_flush
log "ok: limits"

# Bounces: an address other than the sender's is refused and counted.
bounce=$(counter bounce_refused)
ftp_session b1 $E4 42021 "USER anonymous" "PORT 192,168,1,1,0,22"
ftp_session b2 $E4 42022 "USER anonymous" "ECHO 227 Entering Passive Mode (10,0,1,1,0,22)"
ftp_session b3 $E6 42023 "USER anonymous" "EPRT |2|fd00:2::1|22|"
busywait 10000 sh -c "[ \$(cat $SYS/bounce_refused) -ge $((bounce + 3)) ]" ||
	fail "bounce_refused: $(counter bounce_refused), want $((bounce + 3))"
check_eq "expectations for bounces" "$(ftp_expect_count)" 0
for t in b1 b2 b3; do ftp_release $t; done

# Hostile clients.
# A command split at every byte: the first segment is a partial match,
# dropped and counted (as by nf_conntrack_ftp); the following ones do not
# start a line and pass unparsed.  With SACK, TCP retransmits the first
# byte alone, so the command is never tracked.
parse=$(counter parse_errors)
printf 'PORT 10,0,1,2,119,1\r\n' >"$FTP_TMP/split"
nsx "$NS_C" python3 "$FTP_PEER" raw $E4 "$FTP_TMP/hold-split-bytes" "$FTP_TMP/split" >/dev/null 2>&1 &
busywait 60000 sh -c "[ \$(cat $SYS/parse_errors) -gt $parse ]" || fail "split command: parse_errors did not move"
ftp_expect_list | grep -q 'dport=30465 ' && fail "split command tracked from a partial segment"
# A 64 KiB argument that does not parse: dropped and counted, every time
# it is retransmitted.
parse=$(counter parse_errors)
{ printf 'PORT '; head -c 65536 /dev/zero | tr '\0' 1; printf '\r\n'; } >"$FTP_TMP/long-port"
# A 64 KiB line that is no command.
{ head -c 65536 /dev/zero | tr '\0' x; printf '\r\n'; } >"$FTP_TMP/long-line"
# Thousands of commands in a row.
for i in $(seq 3000); do printf 'PORT 10,0,1,2,%d,%d\r\n' $((i / 256 + 100)) $((i % 256)); done >"$FTP_TMP/many"
head -c 65536 /dev/urandom >"$FTP_TMP/random"
created=$(counter expect_created)
for f in long-port long-line many random; do
	nsx "$NS_C" python3 "$FTP_PEER" raw $E4 "$FTP_TMP/hold-$f" "$FTP_TMP/$f" >/dev/null 2>&1 &
done
busywait 60000 sh -c "[ \$(cat $SYS/parse_errors) -gt $parse ]" || fail "64 KiB PORT: parse_errors did not move"
busywait 60000 sh -c "[ \$(cat $SYS/expect_created) -gt $created ]" ||
	fail "no expectation from thousands of PORTs"
log "INFO: counters: $(cd $SYS && grep . * | tr '\n' ' ')"
log "ok: hostile input"

# A command sent with sendfile(): its segment carries page-cache pages,
# which the page cache may change under it (SKBFL_SHARED_FRAG), so the
# helper copies it out instead of reading it in place.  It is tracked all
# the same.
printf 'PORT 10,0,1,2,121,1\r\n' >"$FTP_TMP/spliced"
nsx "$NS_C" python3 "$FTP_PEER" raw $E4 "$FTP_TMP/hold-spliced-sendfile" "$FTP_TMP/spliced" >/dev/null 2>&1 &
busywait 30000 expect_port_listed 30977 || fail "PORT sent with sendfile() not tracked"
touch "$FTP_TMP/hold-spliced-sendfile"
log "ok: command in page-cache pages"

# Unload while sessions are open: the ruleset's helper object holds the
# module, so it goes first; then every expectation must be gone.
ftp_expect_flush
ftp_session u1 $E4 42031 "USER anonymous" "PORT 10,0,1,2,120,1"
ftp_session u2 $E6 42032 "USER anonymous" "ECHO 229 Entering Extended Passive Mode (|||30722|)"
busywait 10000 ftp_expect_count_ge 2 ||
	fail "no expectations before unload"
nsx "$NS_R" nft flush ruleset
rmmod nf_conntrack_ftp_rs || fail "rmmod with open sessions failed"
check_eq "expectations after unload" "$(ftp_expect_count)" 0
[ -e $SYS ] && fail "$SYS still exists after unload"
[ -e $SC ] && fail "$SC still exists after unload"
nsx "$NS_R" conntrack -L 2>/dev/null | grep -q 'dport=21 ' || fail "control connections gone"
touch "$FTP_TMP"/hold-u1 "$FTP_TMP"/hold-u2 "$FTP_TMP"/hold-long-port "$FTP_TMP"/hold-long-line \
	"$FTP_TMP"/hold-many "$FTP_TMP"/hold-random "$FTP_TMP"/hold-split-bytes

[ $RET = 0 ] && log "PASS: limits, counters, hostile input, unload"
exit $RET
