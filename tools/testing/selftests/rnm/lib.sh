#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the project's kselftests, after the kernel's
# tools/testing/selftests/net/lib.sh: exit codes, network namespaces that
# are removed on exit, waiting for conditions instead of sleeping, loading
# the project's modules from the build tree.

ksft_pass=0
ksft_fail=1
ksft_skip=4

RNM_TOP=${RNM_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)}
# Where the modules under test were built: the repository for the stock
# kernel, another tree for the debug kernel (scripts/check.sh sets it).
RNM_MODDIR=${RNM_MODDIR:-$RNM_TOP}
export RNM_TIMEOUT_SCALE=${RNM_TIMEOUT_SCALE:-1}
RET=0
NS_LIST=()

log() { echo "# $*"; }

# fail "what went wrong": record a failure and go on.
fail() {
	echo "# FAIL: $*"
	RET=$ksft_fail
}

# die "cause": a failed step, stop the test.
die() {
	echo "# FAIL: $*"
	exit $ksft_fail
}

skip() {
	echo "# SKIP: $*"
	exit $ksft_skip
}

# A missing tool skips the test when run by hand, but fails it when the
# suite runs strict (make check), so that a broken build root is noticed.
require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 && continue
		[ "${RNM_STRICT:-0}" = 1 ] && die "required tool '$c' is missing"
		skip "required tool '$c' is missing"
	done
}

# Create namespaces with random suffixes; their names go into the variables
# named by the arguments.  All of them are deleted on exit.
setup_ns() {
	local v name
	for v in "$@"; do
		name="$v-$(mktemp -u XXXXXX)"
		ip netns add "$name" || die "cannot create netns $name"
		ip -n "$name" link set lo up
		ip netns exec "$name" sysctl -qw net.ipv6.conf.all.accept_dad=0
		ip netns exec "$name" sysctl -qw net.ipv6.conf.default.accept_dad=0
		NS_LIST+=("$name")
		eval "$v=$name"
	done
}

cleanup_ns() {
	local ns
	for ns in "${NS_LIST[@]}"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	NS_LIST=()
}

# busywait TIMEOUT_MS CMD...: run CMD until it succeeds or the timeout
# passes.  Under TCG everything is slow: callers pass generous timeouts,
# and a slower kernel (the debug kernel's lane) multiplies all of them by
# RNM_TIMEOUT_SCALE.  They only bound a wait for a condition, so a larger
# value never slows a passing test.
busywait() {
	local timeout=$(($1 * RNM_TIMEOUT_SCALE))
	shift
	local start now
	start=$(date +%s%3N)
	while true; do
		"$@" && return 0
		now=$(date +%s%3N)
		[ $((now - start)) -gt "$timeout" ] && return 1
		sleep 0.1
	done
}

# tcp_listening NS PORT: a TCP socket listens on PORT in namespace NS
# (for busywait).
tcp_listening() {
	[ -n "$(ip netns exec "$1" ss -Hltn "sport = :$2")" ]
}

# The path of one of the project's modules in the build tree.
rnm_ko() {
	# Called as $(rnm_ko ...): the cause goes to stderr, not into the value.
	[ -f "$RNM_MODDIR/$1.ko" ] || { echo "# FAIL: module $1.ko not built in $RNM_MODDIR" >&2; exit $ksft_fail; }
	echo "$RNM_MODDIR/$1.ko"
}

# Load the kernel modules that a module of the build tree depends on: insmod,
# unlike modprobe, does not, and on a freshly booted kernel nothing else may
# have loaded nf_nat, for one.  Returns non-zero, naming the cause, if one
# cannot be loaded.
rnm_load_deps() {
	local ko=$1 dep deps
	deps=$(modinfo -F depends "$ko") || { echo "# modinfo $ko failed" >&2; return 1; }
	for dep in ${deps//,/ }; do
		modprobe "$dep" || { echo "# $(basename "$ko"): cannot load its dependency $dep" >&2; return 1; }
	done
}

# Whether one of the project's modules is built into the running kernel
# (the debug kernel built with scripts/debug-kernel.sh --builtin).
rnm_builtin() {
	grep -q "/$1\.ko\$" "/lib/modules/$(uname -r)/modules.builtin" 2>/dev/null
}

# Load one of the project's modules from the build tree.  A module built
# into the kernel is there already; module parameters can then only be
# given on the kernel's command line, and a test that needs them skips.
rnm_insmod() {
	local name=$1
	shift
	local ko
	if rnm_builtin "$name"; then
		[ $# = 0 ] || skip "$name is built in: its parameters ($*) cannot be set at load"
		return 0
	fi
	ko=$(rnm_ko "$name") || exit $ksft_fail
	rnm_load_deps "$ko" || die "cannot load the dependencies of $name.ko"
	insmod "$ko" "$@" || die "insmod $name.ko $* failed"
}

# Unload one of the project's modules; one built in stays.
rnm_rmmod() {
	if rnm_builtin "$1"; then
		log "$1 is built in: not unloaded"
		return 0
	fi
	rmmod "$1" || fail "rmmod $1 failed"
}

# check_eq WHAT GOT WANT
check_eq() {
	if [ "$2" != "$3" ]; then
		fail "$1: got '$2', want '$3'"
		return 1
	fi
	return 0
}

# write_ok FILE VALUE: the write must succeed.
write_ok() {
	local err
	if ! err=$( (printf '%s' "$2" >"$1") 2>&1); then
		fail "writing '$2' to $1 failed: ${err##*: }"
		return 1
	fi
}

# write_rejected FILE VALUE ERRNO_TEXT: the write must fail with that error
# (for example "Invalid argument") and leave the file's value unchanged.
write_rejected() {
	local file=$1 value=$2 want=${3:-Invalid argument} before after err
	before=$(cat "$file")
	if err=$( (printf '%s' "$value" >"$file") 2>&1); then
		fail "writing '${value:0:40}' to $file succeeded, want '$want'"
	elif [[ "$err" != *"$want"* ]]; then
		fail "writing '${value:0:40}' to $file: got '${err##*: }', want '$want'"
	fi
	after=$(cat "$file")
	check_eq "$file after rejected write" "$after" "$before"
}
