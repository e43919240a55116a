#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run bindgen on the project's header with the flags the kernel used for
# its own bindings.  The prepared kernel tree records that command in
# rust/bindings/.bindings_generated.rs.cmd: this keeps its generic bindgen
# options and all of its clang flags (target, defines, include paths), and
# replaces the kernel's header and parameter list with ours.
#
# Usage: rnm-bindgen.sh OBJTREE HEADER PARAMETERS OUTPUT

set -e
set -f

objtree=$1
header=$(realpath "$2")
params=$(realpath "$3")
out=$(realpath -m "$4")

cmdfile=$objtree/rust/bindings/.bindings_generated.rs.cmd
[ -f "$cmdfile" ] || { echo "error: $cmdfile missing: the kernel tree was not prepared with CONFIG_RUST" >&2; exit 1; }
cmd=$(sed -n 's/^savedcmd_[^ ]* := //p' "$cmdfile")
cmd=${cmd%%; *}
clang_flags=${cmd#* -- }
generic=${cmd% -o *}
case "$generic" in
*" --rust-target "*) generic="--rust-target ${generic#* --rust-target }" ;;
*) echo "error: cannot find the bindgen options in $cmdfile" >&2; exit 1 ;;
esac
# The dependency file option would write into the kernel tree.
clang_flags=$(echo "$clang_flags" | sed 's/-Wp,-MMD,[^ ]*//')
own=$(grep -Ev '^#|^$' "$params" | tr '\n' ' ')

cd "$objtree"
eval "bindgen \"$header\" $own $generic -o \"$out.tmp\" -- $clang_flags -I\"$(dirname "$header")\""
sed -Ei 's/pub const RUST_CONST_HELPER_([a-zA-Z0-9_]*)/pub const \1/g' "$out.tmp"
mv "$out.tmp" "$out"
