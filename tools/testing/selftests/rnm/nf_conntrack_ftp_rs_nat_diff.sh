#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Differential test of FTP NAT: the same scripted control sessions go
# through the NAT routers of nat_lib.sh once with nf_conntrack_ftp +
# nf_nat_ftp and once with nf_conntrack_ftp_rs, and must leave the same
# traces:
#   - the control streams as the servers receive them (PORT, EPRT) and as
#     the clients receive them (227, 229), byte for byte;
#   - each router's control connections (tuples, NAT status, helper,
#     sequence adjustment offsets), read through ctnetlink (ct_dump.py);
#   - each router's expectations, through ctnetlink (with the NAT set-up:
#     saved port, direction, expectation function), conntrack -L expect
#     and /proc/net/nf_conntrack_expect.
# The sessions rewrite IPv4 and IPv6, PORT, EPRT, 227 and 229, into
# longer and shorter text, many times in one session, through the
# masquerade, the port forwarding and both.  Where two sessions announce
# the same port (65000) the router picks a random free one: ports above
# 65000 are written as "R" before comparing.
#
# RNM_FTP_IMPLS (default "c rs") names the two runs; "c c" checks that the
# comparison itself is deterministic.  A Rust helper built without NAT
# support (no nat_rewritten counter) is reported as a skip.

source "$(dirname "$0")/nat_lib.sh"
trap ftp_cleanup EXIT

require_cmd nft conntrack python3 ss
modinfo nf_nat_ftp >/dev/null 2>&1 || skip "no nf_nat_ftp to compare with"

# Sessions "ADDR SPORT [SRC];LINE;LINE...", the first line "USER <tag>" so
# that the servers record what they receive under that tag.  A reply
# "ECHO <text>" makes the server send <text> back.
# From C, through R1 (masquerade) to P, and through R1 and R2 to S:
FROM_C=(
	"$P4 41001;USER a1;PORT 10,0,0,2,117,48"
	"$P4 41002;USER a2;EPRT |1|10.0.0.2|30001|"
	"$P4 41003;USER a3;PORT 010,000,000,002,117,50"
	"$P4 41004;USER a4;EPRT |1|010.000.000.002|30003|"
	"$P6 41005;USER a5;EPRT |2|fd00:a::2|30004|"
	"$P6 41006;USER a6;EPRT |2|fd00:000a:0000:0000:0000:0000:0000:0002|30005|"
	"$P4 41007;USER a7;ECHO 227 Entering Passive Mode (203,0,113,5,117,54).;ECHO 229 Entering Extended Passive Mode (|||30007|)"
	"$P6 41008;USER a8;ECHO 229 Entering Extended Passive Mode (|||30008|)"
	"$P4 41009;USER a9;PORT 10,0,0,2,117,58;NOOP;EPRT |1|10.0.0.2|30011|;PORT 010,000,000,002,117,60;NOOP;PORT 10,0,0,2,117,61;EPRT |1|010.000.000.002|30014|;PORT 10,0,0,2,117,63;PORT 10,0,0,2,117,64;NOOP;PORT 010,000,000,002,117,65;EPRT |1|10.0.0.2|30018|;PORT 10,0,0,2,117,67;NOOP;PORT 10,0,0,2,117,68;PORT 10,0,0,2,117,69;EPRT |1|10.0.0.2|30022|;PORT 010,000,000,002,117,71;PORT 10,0,0,2,117,72;NOOP;PORT 10,0,0,2,117,73;PORT 10,0,0,2,117,74"
	"$P6 41010;USER a10;EPRT |2|fd00:a::2|30030|;EPRT |2|fd00:a:0:0:0:0:0:2|30031|;NOOP;EPRT |2|fd00:a::2|30032|;EPRT |2|fd00:000a:0000:0000:0000:0000:0000:0002|30033|;EPRT |2|fd00:a:0:0:0:0:0:2|30034|;NOOP;EPRT |2|fd00:a::2|30035|"
	"$P4 41011;USER a11;PORT 10,0,0,2,253,232"
	"$P4 41012 $C4B;USER a12;PORT 10,0,0,3,253,232"
	"$P6 41013;USER a13;EPRT |2|fd00:a::2|65000|"
	"$P6 41014 $C6B;USER a14;EPRT |2|fd00:a::3|65000|"
	"$R2_4 41015;USER c1;PORT 10,0,0,2,117,80;ECHO 227 Entering Passive Mode (192,168,100,200,117,81).;PORT 010,000,000,002,117,82;ECHO 227 Entering Passive Mode (192,168,100,200,117,83)."
	"$R2_4 41016;USER c2;EPRT |1|10.0.0.2|30084|;ECHO 229 Entering Extended Passive Mode (|||30085|)"
	"$R2_6 41017;USER c3;EPRT |2|fd00:a::2|30086|;ECHO 229 Entering Extended Passive Mode (|||30087|);EPRT |2|fd00:a:0:0:0:0:0:2|30088|"
)
# From P, through R2 (port forwarding) to S:
FROM_P=(
	"$R2_4 42001;USER b1;ECHO 227 Entering Passive Mode (192,168,100,200,117,98)."
	"$R2_4 42002;USER b2;ECHO 227 Entering Passive Mode 192,168,100,200,117,99"
	"$R2_4 42003;USER b3;ECHO 227 =192,168,100,200,117,100"
	"$R2_4 42004;USER b4;ECHO 229 Entering Extended Passive Mode (|||30101|)"
	"$R2_6 42005;USER b5;ECHO 229 Entering Extended Passive Mode (|||30102|)"
	"$R2_4 42006;USER b6;PORT 203,0,113,5,117,103;EPRT |1|203.0.113.5|30104|"
	"$R2_6 42007;USER b7;EPRT |2|2001:db8:5::5|30105|"
	"$R2_4 42008;USER b8;PASV;ECHO 227 Entering Passive Mode (192,168,100,200,117,110).;ECHO 227 Entering Passive Mode (192,168,100,200,117,111).;NOOP;ECHO 227 Entering Passive Mode (192,168,100,200,117,112).;ECHO 229 Entering Extended Passive Mode (|||30113|);ECHO 227 Entering Passive Mode (192,168,100,200,117,114).;ECHO 227 Entering Passive Mode (192,168,100,200,117,115).;NOOP;ECHO 227 Entering Passive Mode (192,168,100,200,117,116).;ECHO 227 Entering Passive Mode (192,168,100,200,117,117).;ECHO 227 Entering Passive Mode (192,168,100,200,117,118).;ECHO 229 Entering Extended Passive Mode (|||30119|);ECHO 227 Entering Passive Mode (192,168,100,200,117,120).;ECHO 227 Entering Passive Mode (192,168,100,200,117,121).;NOOP;ECHO 227 Entering Passive Mode (192,168,100,200,117,122).;ECHO 227 Entering Passive Mode (192,168,100,200,117,123).;ECHO 227 Entering Passive Mode (192,168,100,200,117,124).;ECHO 227 Entering Passive Mode (192,168,100,200,117,125).;ECHO 227 Entering Passive Mode (192,168,100,200,117,126).;ECHO 227 Entering Passive Mode (192,168,100,200,117,127)."
	"$R2_4 42009;USER b9;ECHO 227 Entering Passive Mode (192,168,100,200,253,232)."
	"$R2_4 42010;USER b10;ECHO 227 Entering Passive Mode (192,168,100,200,253,232)."
)

# normalize: the ports a router picks at random where the announced one
# (65000) is in use, 65001 to 65534, in PORT and 227 text (h,l), EPRT and
# 229 text (|port|) and key=value fields, become "R"; so do the sequence
# adjustment offsets of those sessions' control connections (the random
# port's text has 5 to 7 characters), named by their source ports.
RANDOM_SPORTS="41012 41014 42010"
normalize() {
	python3 -c '
import re, sys
rnd = lambda p: 65000 < p < 65535
sports = ["orig-sport=%s " % p for p in sys.argv[1].split()]
def hl(m):
    h, l = int(m.group(2)), int(m.group(3))
    return m.group(1) + ("R,R" if rnd(h * 256 + l) else m.group(2) + "," + m.group(3))
for line in sys.stdin:
    line = re.sub(r"((?:\d+,){4})(\d+),(\d+)", hl, line)
    line = re.sub(r"\|(\d+)\|", lambda m: "|R|" if rnd(int(m.group(1))) else m.group(0), line)
    line = re.sub(r"(port=)(\d+)", lambda m: m.group(1) + ("R" if rnd(int(m.group(2))) else m.group(2)), line)
    if any(p in line for p in sports):
        line = re.sub(r"(seqadj-\w+=)\d+/\d+", r"\1R", line)
    sys.stdout.write(line)
' "$RANDOM_SPORTS"
}

# sessions NS FILE HOLD OUT LINE...: the sessions, from NS, held open.
start_sessions() {
	local ns=$1 file=$2 hold=$3 out=$4
	shift 4
	printf '%s\n' "$@" >"$file"
	rm -f "$hold"
	nsx "$ns" python3 "$FTP_PEER" sessions "$file" "$hold" >"$out" 2>&1 &
}

# snapshot NS NAME OUT: a router's tables, normalized, into OUT/NAME-*.
snapshot() {
	local ns=$1 name=$2 out=$3
	# The control connections (the ICMP of the set-up left aside).
	nsx "$ns" python3 "$CT_DUMP" conntrack | grep 'dport=21 ' | normalize >"$out/$name-conntrack"
	nsx "$ns" python3 "$CT_DUMP" expect | normalize >"$out/$name-expect"
	local NS_R=$ns
	ftp_expect_list | normalize >"$out/$name-expect-conntrack-L"
	nsx "$ns" cat /proc/net/nf_conntrack_expect | cut -d' ' -f2- | sort | normalize >"$out/$name-expect-proc"
}

# run_sessions c|rs OUT: a fresh topology, every session, the traces into
# OUT.  Returns 1 if the implementation cannot NAT.
run_sessions() {
	local impl=$1 out=$2 rec=$FTP_TMP/rec-$impl-$RANDOM n
	mkdir -p "$out" "$rec"
	nat_impl_load "$impl"
	if [ "$impl" = rs ] && ! nat_rs_has_nat; then
		nat_impl_unload
		return 1
	fi
	nat_topology
	nat_firewall "$NAT_HELPER"
	nsx "$NS_P" python3 "$FTP_PEER" echo-server $P4 "$rec" >/dev/null 2>&1 &
	nsx "$NS_P" python3 "$FTP_PEER" echo-server $P6 "$rec" >/dev/null 2>&1 &
	nsx "$NS_S" python3 "$FTP_PEER" echo-server $S4 "$rec" >/dev/null 2>&1 &
	nsx "$NS_S" python3 "$FTP_PEER" echo-server $S6 "$rec" >/dev/null 2>&1 &
	busywait 30000 nat_listening "$NS_P" 2 || die "echo servers on P not listening"
	busywait 30000 nat_listening "$NS_S" 2 || die "echo servers on S not listening"
	start_sessions "$NS_C" "$FTP_TMP/sessions-c" "$FTP_TMP/hold-c" "$FTP_TMP/out-c" "${FROM_C[@]}"
	start_sessions "$NS_P" "$FTP_TMP/sessions-p" "$FTP_TMP/hold-p" "$FTP_TMP/out-p" "${FROM_P[@]}"
	busywait $((300000)) grep -q HOLDING "$FTP_TMP/out-c" || fail "$impl: sessions from C did not complete"
	busywait $((300000)) grep -q HOLDING "$FTP_TMP/out-p" || fail "$impl: sessions from P did not complete"
	grep -h TIMEOUT "$FTP_TMP/out-c" "$FTP_TMP/out-p" | sed "s/^/# $impl: /"
	log "INFO: $impl: sessions held after ${SECONDS}s"
	# What the clients received, and what the servers received.
	normalize <"$FTP_TMP/out-c" >"$out/client-C"
	normalize <"$FTP_TMP/out-p" >"$out/client-P"
	for n in $(cd "$rec" && ls | sort -V); do
		echo "== $n"
		cat -v "$rec/$n"
	done | normalize >"$out/servers"
	snapshot "$NS_R1" R1 "$out"
	snapshot "$NS_R2" R2 "$out"
	touch "$FTP_TMP/hold-c" "$FTP_TMP/hold-p"
	nat_impl_unload
	cleanup_ns
	log "INFO: $impl: run done after ${SECONDS}s"
}

# sanity OUT: the first run did NAT (else the comparison proves nothing).
sanity() {
	local out=$1 bad
	grep -q 'PORT 203,0,113,200,117,48' "$out/servers" || fail "no PORT rewritten by R1 (longer)"
	grep -q 'PORT 203,0,113,200,117,50' "$out/servers" || fail "no PORT rewritten by R1 (shorter)"
	grep -q 'EPRT |1|203.0.113.200|30001|' "$out/servers" || fail "no EPRT |1| rewritten by R1"
	# nf_nat_ftp writes IPv6 addresses in full ("%pI6"): 39 characters,
	# never shorter than the original.
	grep -q 'EPRT |2|2001:0db8:000c:0000:0000:0000:0000:0200|30004|' "$out/servers" ||
		fail "no EPRT |2| rewritten by R1"
	grep -q '(203,0,113,1,117,98)' "$out/client-P" || fail "no 227 rewritten by R2"
	grep -q '(203,0,113,1,117,81)' "$out/client-C" || fail "no 227 rewritten by R2 and passed by R1"
	# (The servers receive their own addresses in the ECHO commands.)
	bad=$(cat "$out/servers" "$out/client-C" "$out/client-P" | grep -v '^ECHO ' |
		grep -E '10,0,0,2|192,168,100,200|fd00:')
	[ -z "$bad" ] || fail "a private address reached the other side: $(echo "$bad" | head -n3)"
	grep -q 'seqadj-orig=' "$out/R1-conntrack" || fail "R1 has no sequence adjustment"
	grep -q 'seqadj-reply=' "$out/R2-conntrack" || fail "R2 has no sequence adjustment"
	grep -q 'fn=nat-follow-master' "$out/R1-expect" || fail "R1's expectations do not follow the master's NAT"
}

read -r A B <<<"${RNM_FTP_IMPLS:-c rs}"
nat_impl_unload
run_sessions "$A" "$FTP_TMP/$A-1" || die "$(nat_impl_name "$A") cannot NAT"
sanity "$FTP_TMP/$A-1"
if ! run_sessions "$B" "$FTP_TMP/$B-2"; then
	[ $RET = 0 ] || exit $RET
	skip "$(nat_impl_name "$B") has no NAT support yet ($(nat_impl_name "$A") gave the traces)"
fi

mismatches=0
for f in client-C client-P servers R1-conntrack R1-expect R1-expect-conntrack-L R1-expect-proc \
	R2-conntrack R2-expect R2-expect-conntrack-L R2-expect-proc; do
	a=$FTP_TMP/$A-1/$f b=$FTP_TMP/$B-2/$f
	sed "s/^/# $A $f: /" "$a"
	n=$(diff "$a" "$b" | grep -c '^[<>]')
	if [ "$n" != 0 ]; then
		diff "$a" "$b" | grep '^[<>]' | sed "s/^/# diff $f: /"
		mismatches=$((mismatches + n))
		fail "$f differs ($n lines)"
	fi
	log "INFO: $f: $(wc -l <"$a") lines, $n differ"
done
log "INFO: $((${#FROM_C[@]} + ${#FROM_P[@]})) sessions; $(nat_impl_name "$A") against $(nat_impl_name "$B"): $mismatches lines differ"
[ $RET = 0 ] && log "PASS: NAT traces identical"
exit $RET
