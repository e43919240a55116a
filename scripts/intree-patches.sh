#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The in-tree form of the project: a patch series for the kernel source of
# the resolved version, written from the repository's files.
#
#   scripts/intree-patches.sh            write out/intree-patches/*.patch
#                                        and out/intree-patches/series
#   scripts/intree-patches.sh --check    also apply the series with git am
#                                        to a clean copy of linux-source and
#                                        build the modules in Debian's
#                                        configuration
#   scripts/intree-patches.sh --check --each
#                                        the same, building after each patch
#   scripts/intree-patches.sh --check --builtin
#                                        the same, with the modules built in
#                                        (=y, and NF_CONNTRACK=y, NF_NAT=y),
#                                        in a build directory of its own
#
# The copy of linux-source (a git repository, tag "base") and the build
# output are kept in the cache, in root/opt/rnm/intree/, and reused.  The
# check fails with one line naming the patch or the step that failed; the
# full output of each step is in out/intree-check/.

set -euo pipefail
. "$(dirname "$0")/lib.sh"

check=0
each=0
builtin=0
for arg; do
	case "$arg" in
	--check) check=1 ;;
	--each) check=1; each=1 ;;
	--builtin) check=1; builtin=1 ;;
	*) die "unknown argument $arg" ;;
	esac
done

src=$(rnm_linux_src) || die "no kernel source resolved: run scripts/setup.sh"
[ -f "$src/Makefile" ] || die "kernel source $src missing: run scripts/setup.sh"
out=$RNM_TOP/out/intree-patches
mkdir -p "$out"
n=$(python3 "$RNM_TOP/scripts/intree/mkseries.py" "$src" "$RNM_TOP" "$out") ||
	die "writing the patch series failed"
note "$n patches in ${out#"$RNM_TOP"/}/ (series: ${out#"$RNM_TOP"/}/series)"
[ "$check" = 1 ] || exit 0

# ------------------------------------------------------------ the check
# Paths inside the build root, and as the host sees them.
tree=/opt/rnm/intree/linux
build=/opt/rnm/intree/build
[ "$builtin" = 0 ] || build=/opt/rnm/intree/build-y
htree=$RNM_ROOT$tree
hbuild=$RNM_ROOT$build
logs=$RNM_TOP/out/intree-check
rm -rf "$logs"
mkdir -p "$logs"

# The new options; the rest of the configuration is Debian's.  Samples are
# off in Debian's configuration: the sysctl sample needs them on.
options_y="SAMPLES SAMPLES_RUST"
options_m="SAMPLE_RUST_SYSCTL NF_CONNTRACK_FTP_RS VNAPI"
targets="samples/rust/rust_sysctl_sample.o net/netfilter/nf_conntrack_ftp_rs.o drivers/net/vnapi/vnapi.o"

# Built in, kbuild has no rule for a composite object: build its parts.
[ "$builtin" = 0 ] || targets="samples/rust/rust_sysctl_sample.o net/netfilter/nf_conntrack_ftp_rs_main.o net/netfilter/nf_conntrack_rust.o drivers/net/vnapi/vnapi_main.o"

kmake() {
	in_root nice -n 10 make -C "$tree" O="$build" CC=x86_64-linux-gnu-gcc-14 \
		KERNELRELEASE="$(cat "$RNM_ROOT/opt/rnm/kbuild/include/config/kernel.release" 2>/dev/null || echo 7.3)" \
		"$@"
}

# step NAME COMMAND...: run, log, time, and fail with one line.
step() {
	local name=$1 t0 t1
	shift
	t0=$(date +%s)
	local rc
	# Not in an `if` or `||`: set -e must stay in force inside the step.
	set +e
	(set -e; "$@") >"$logs/$name.log" 2>&1
	rc=$?
	set -e
	if [ "$rc" != 0 ]; then
		die "intree-check: step '$name' failed (${logs#"$RNM_TOP"/}/$name.log: $(grep -m1 -E 'error|Error|failed' "$logs/$name.log" || tail -n1 "$logs/$name.log"))"
	fi
	t1=$(date +%s)
	note "$name: ok ($((t1 - t0)) s)"
	echo "$name $((t1 - t0))" >>"$logs/times"
}

reset_source() {
	git -C "$htree" am --abort >/dev/null 2>&1 || true
	git -C "$htree" reset -q --hard base
	git -C "$htree" clean -q -f -d -x
}

apply() {
	git -C "$htree" -c user.name=intree-check -c user.email=intree-check@localhost \
		am -q "$@"
}

configure() {
	mkdir -p "$hbuild"
	cp "$RNM_ROOT$RNM_KDIR/.config" "$hbuild/.config"
	local o args=() argm=()
	for o in $options_y; do args+=(-e "$o"); argm+=(-e "$o"); done
	for o in $options_m; do args+=(-e "$o"); argm+=(-m "$o"); done
	# Built in, the FTP helper needs NF_CONNTRACK and NF_NAT built in: with
	# Debian's =m, asking for =y must give =m; the others may be =y.
	in_root "$tree/scripts/config" --file "$build/.config" "${args[@]}"
	kmake olddefconfig
	grep -qx 'CONFIG_NF_CONNTRACK_FTP_RS=m' "$hbuild/.config" ||
		{ echo "error: NF_CONNTRACK_FTP_RS=y accepted with NF_NAT=m"; return 1; }
	grep -qx 'CONFIG_VNAPI=y' "$hbuild/.config" ||
		{ echo "error: VNAPI=y refused"; return 1; }
	# Then all as modules, which is what is built.
	in_root "$tree/scripts/config" --file "$build/.config" "${argm[@]}"
	kmake olddefconfig
	for o in $options_m; do
		grep -qx "CONFIG_$o=m" "$hbuild/.config" ||
			{ echo "error: CONFIG_$o is not =m after olddefconfig"; return 1; }
	done
	# Debian's own options must come out as they went in: a toolchain that
	# differs from Debian's silently drops some (DEBUG_INFO_BTF, RUST).
	local ours='SAMPLE|NF_CONNTRACK_FTP_RS|VNAPI'
	diff <(grep -E '^CONFIG_' "$RNM_ROOT$RNM_KDIR/.config" | grep -Ev "$ours") \
		<(grep -E '^CONFIG_' "$hbuild/.config" | grep -Ev "$ours") \
		>"$logs/config.diff" ||
		{ echo "error: olddefconfig changed Debian's options (${logs#"$RNM_TOP"/}/config.diff)"; return 1; }
}

# Built in: the FTP helper then needs NF_CONNTRACK and NF_NAT built in.
configure_builtin() {
	mkdir -p "$hbuild"
	cp "$RNM_ROOT$RNM_KDIR/.config" "$hbuild/.config"
	local o args=(-e NF_CONNTRACK -e NF_NAT)
	for o in $options_y $options_m; do args+=(-e "$o"); done
	in_root "$tree/scripts/config" --file "$build/.config" "${args[@]}"
	kmake olddefconfig
	for o in NF_CONNTRACK NF_NAT $options_m; do
		grep -qx "CONFIG_$o=y" "$hbuild/.config" ||
			{ echo "error: CONFIG_$o is not =y after olddefconfig"; return 1; }
	done
}

build_modules() {
	# The kernel crate, its bindings and helpers (rust/), then the modules'
	# objects.  vmlinux itself is not relinked: the check is that every
	# patch compiles in Debian's configuration.
	kmake -j2 modules_prepare
	kmake -j2 $targets
	local t
	for t in $targets; do
		[ -f "$hbuild/$t" ] || { echo "error: $t was not built"; return 1; }
	done
	check_symbols
}

# What modpost would check once vmlinux is relinked: every symbol a module
# leaves undefined is defined by the rebuilt rust/ objects (kernel crate,
# bindings, helpers) or exported by Debian's kernel and modules.
check_symbols() {
	local defined=$hbuild/.intree-defined t missing
	{
		in_root nm --defined-only "$build/rust/kernel.o" "$build/rust/bindings.o" \
			"$build/rust/helpers/helpers.o" "$build/rust/core.o" \
			"$build/rust/pin_init.o" "$build/rust/ffi.o" "$build/rust/build_error.o" |
			awk 'NF == 3 { print $3 }'
		awk '{ print $2 }' "$RNM_ROOT$RNM_KDIR/Module.symvers"
		# Defined by the module's .mod.c, which modpost writes.
		echo __this_module
	} | sort -u >"$defined"
	for t in $targets; do
		missing=$(in_root nm -u "$build/$t" | awk '{ print $2 }' | sort -u | comm -23 - "$defined")
		[ -z "$missing" ] ||
			{ echo "error: $t needs symbols nothing defines: $(echo $missing | head -c 300)"; return 1; }
	done
}

# After one patch of the series: the options that exist so far, the
# rust/ target, and the modules whose option exists.
build_partial() {
	mkdir -p "$hbuild"
	cp "$RNM_ROOT$RNM_KDIR/.config" "$hbuild/.config"
	local o args=() t have=()
	for o in $options_y; do args+=(-e "$o"); done
	for o in $options_m; do args+=(-m "$o"); done
	in_root "$tree/scripts/config" --file "$build/.config" "${args[@]}"
	kmake olddefconfig
	kmake -j2 modules_prepare
	for t in $targets; do
		case "$t" in
		samples/*) o=SAMPLE_RUST_SYSCTL ;;
		net/*) o=NF_CONNTRACK_FTP_RS ;;
		drivers/*) o=VNAPI ;;
		esac
		! grep -qx "CONFIG_$o=m" "$hbuild/.config" || have+=("$t")
	done
	[ ${#have[@]} = 0 ] || kmake -j2 "${have[@]}"
}

command -v git >/dev/null || die "git is needed on the host for git am"
[ -d "$htree/.git" ] || step copy-source rnm_git_source "$htree"
step reset reset_source
if [ "$each" = 1 ]; then
	i=0
	while read -r p; do
		i=$((i + 1))
		apply "$out/$p" >"$logs/apply-$i.log" 2>&1 ||
			die "intree-check: patch $p does not apply (${logs#"$RNM_TOP"/}/apply-$i.log)"
		step "build-$i" build_partial
	done <"$out/series"
	step configure configure
	step build build_modules
else
	mapfile -t patches < <(sed "s|^|$out/|" "$out/series")
	apply "${patches[@]}" >"$logs/apply.log" 2>&1 ||
		die "intree-check: the series does not apply to $(basename "$src") ($(grep -m1 -i 'patch failed\|error' "$logs/apply.log" || tail -n1 "$logs/apply.log"))"
	note "applied $n patches"
	if [ "$builtin" = 1 ]; then
		step configure configure_builtin
	else
		step configure configure
	fi
	step build build_modules
fi
note "intree-check: ok; times (s): $(tr '\n' ' ' <"$logs/times")"
