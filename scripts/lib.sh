# SPDX-License-Identifier: GPL-2.0
#
# Shared definitions for the project's scripts: where the cache lives, how to
# enter the build root, and how to fail with a one-line cause.

RNM_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RNM_CACHE=${RNM_CACHE:-/var/cache/rust-netmods}
RNM_ROOT=$RNM_CACHE/root
# Paths inside the build root.
RNM_KDIR=/opt/rnm/kbuild
RNM_KSRC=/opt/rnm/src
# The debug kernel (scripts/debug-kernel.sh).
RNM_DEBUG_KDIR=/opt/rnm/debug

# The kernel source in the build root, as the host sees it (the version is
# the one setup.sh resolved).
rnm_linux_src() {
	local kver
	read -r _ kver 2>/dev/null <"$RNM_ROOT/.rnm/kernel" || return 1
	echo "$RNM_ROOT$RNM_KSRC/linux-source-$kver"
}

# rnm_git_source DEST: a copy of the kernel source at DEST (as the host
# sees it), a git repository whose commit "base" is the unpacked
# linux-source, for applying the patch series to.  Made once: the copy is
# made beside DEST and moved in place only when complete.
rnm_git_source() {
	local dest=$1 src tmp
	[ -d "$dest/.git" ] && return 0
	src=$(rnm_linux_src) || die "no kernel source resolved: run scripts/setup.sh"
	tmp=$dest.tmp
	rm -rf "$tmp"
	# On a fresh machine the directory above it does not exist yet.
	mkdir -p "$(dirname "$dest")"
	cp -a "$src" "$tmp"
	# Debian's .gitignore ignores the top level: add everything with -f.
	git -C "$tmp" init -q
	git -C "$tmp" config gc.auto 0
	git -C "$tmp" add -f -A .
	git -C "$tmp" -c user.name=linux-source -c user.email=linux-source@localhost \
		commit -q -m "linux-source $(basename "$src")"
	git -C "$tmp" tag base
	mv "$tmp" "$dest"
}

# rnm_git_apply DEST PATCHES...: DEST (from rnm_git_source) checked out at
# the base with PATCHES applied, as one commit.  The patches are applied
# to a separate index (git apply --cached), and the result checked out
# from what DEST had: only the files that differ are written, so that
# the others keep their times and a build in DEST stays incremental.
rnm_git_apply() {
	local dest=$1 idx tree commit p
	shift
	idx=$dest/.git/rnm-series-index
	rm -f "$idx"
	GIT_INDEX_FILE=$idx git -C "$dest" read-tree base
	for p; do
		GIT_INDEX_FILE=$idx git -C "$dest" apply --cached "$p" || { echo "error: $p does not apply"; return 1; }
	done
	tree=$(GIT_INDEX_FILE=$idx git -C "$dest" write-tree)
	rm -f "$idx"
	commit=$(git -C "$dest" -c user.name=rnm -c user.email=rnm@localhost \
		commit-tree "$tree" -p base -m "the project's patch series")
	git -C "$dest" am --abort >/dev/null 2>&1 || true
	git -C "$dest" checkout -q -f --detach "$commit"
	git -C "$dest" clean -q -f -d -x
}

# The crates that have cargo-fuzz targets (a fuzz/ directory), relative to
# the top, not counting copies under out/.
fuzz_crates() {
	(cd "$RNM_TOP" && find . -path '*/fuzz/Cargo.toml' -not -path './out/*' -not -path '*/target/*') |
		sed 's|/fuzz/Cargo.toml$||' | sort
}

die() {
	echo "error: $*" >&2
	exit 1
}

note() {
	echo ">>> $*" >&2
}

# Run a command inside the build root, in a private mount namespace so that
# the bind mounts never outlive the command.  The repository is mounted at
# the same path inside the root, so paths are the same inside and outside.
in_root() {
	[ -x "$RNM_ROOT/bin/sh" ] || die "build root $RNM_ROOT missing: run scripts/setup.sh"
	local cwd=$PWD
	case "$cwd" in "$RNM_TOP"|"$RNM_TOP"/*) ;; *) cwd=/ ;; esac
	unshare -m --propagation private -- /bin/sh -ec '
		root=$1; top=$2; cwd=$3; shift 3
		mount --rbind /dev "$root/dev"
		mount -t proc proc "$root/proc"
		mount --rbind /sys "$root/sys"
		mkdir -p "$root/run" "$root/tmp" "$root$top"
		mount -t tmpfs tmpfs "$root/run"
		mount --bind "$top" "$root$top"
		cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
		cd "$root$cwd"
		exec chroot "$root" /usr/bin/env -i \
			HOME=/root TERM="${TERM:-dumb}" \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive INITRD=No \
			RNM_IN_ROOT=1 RNM_VM_ARGS="${RNM_VM_ARGS:-}" RNM_KVM="${RNM_KVM:-0}" \
			RNM_VM_MEM="${RNM_VM_MEM:-2G}" RNM_VM_CPUS="${RNM_VM_CPUS:-2}" \
			RNM_VM_APPEND="${RNM_VM_APPEND:-}" RNM_VM_TIMEOUT="${RNM_VM_TIMEOUT:-0}" \
			/bin/sh -c "cd \"\$0\" && exec \"\$@\"" "$cwd" "$@"
	' in_root "$RNM_ROOT" "$RNM_TOP" "$cwd" "$@"
}
