#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Compile the examples in the documentation of the abstractions
# (rust/rnm/), as rustdoc would: an example cannot be `ignore`d, and it
# must type-check against the abstractions it shows.
#
# Each code block of a `//!` or `///` comment (except `text` blocks)
# becomes the body of a function returning `kernel::error::Result`, in a
# module that uses the kernel prelude as the leaf modules do (lines
# starting with `# ` are kept without that prefix, as rustdoc hides them);
# `Ok(())` is added unless the block ends with it.  The functions of one
# source file form one crate with the abstractions at `crate::rnm`, which
# is type-checked with the rustc command kbuild used for the modules.
#
# Usage: scripts/doctests.sh
# Prints one TAP line per source file with examples; exits non-zero if
# any fails to compile or is marked `ignore`.
# Needs a built tree (`make modules`); runs inside the build root.

set -o pipefail
. "$(dirname "$0")/rustc-check.sh"
rustc_check_init out/doctests scripts/doctests.sh "$@"
out=out/doctests

# extract SRC DEST: writes the examples of SRC as functions into DEST;
# prints how many, or "ignore:LINE" for an example marked ignore.
extract() {
	python3 - "$1" "$2" <<-'EOF'
	import re, sys
	src, dest = sys.argv[1], sys.argv[2]
	blocks, cur, start, bad = [], None, 0, None
	for no, line in enumerate(open(src), 1):
	    m = re.match(r'\s*//[/!] ?(.*)$', line)
	    if not m:
	        continue
	    text = m.group(1)
	    fence = re.match(r'```(.*)$', text.strip())
	    if cur is None and fence:
	        attrs = [a.strip() for a in fence.group(1).split(',') if a.strip()]
	        if 'ignore' in attrs and bad is None:
	            bad = no
	        cur, start = ([] if 'text' not in attrs else None), no
	        if cur is None:
	            cur = 'skip'
	        continue
	    if cur is not None and fence and fence.group(1) == '':
	        if cur != 'skip':
	            blocks.append((start, cur))
	        cur = None
	        continue
	    if cur is not None and cur != 'skip':
	        if text.startswith('# ') or text == '#':
	            text = text[2:]
	        cur.append(text)
	if bad is not None:
	    print(f'ignore:{bad}')
	    sys.exit(0)
	with open(dest, 'w') as f:
	    f.write('// SPDX-License-Identifier: GPL-2.0\n')
	    f.write(f'//! The examples of {src} (generated).\n')
	    f.write('#![forbid(unsafe_code)]\n')
	    f.write('use kernel::prelude::*;\n')
	    for i, (line, body) in enumerate(blocks):
	        f.write(f'\n/// {src}:{line}\n')
	        f.write(f'pub fn example_{i}() -> kernel::error::Result {{\n')
	        for b in body:
	            f.write(f'    {b}\n')
	        last = [b for b in body if b.strip()][-1:] or ['']
	        if not re.match(r'\s*Ok(::<.*>)?\(\(\)\)\s*$', last[0]):
	            f.write('    #[allow(unreachable_code)]\n    Ok(())\n')
	        f.write('}\n')
	print(len(blocks))
	EOF
}

n=0
failed=0
for src in $(find rust/rnm -name '*.rs' | sort); do
	grep -Eq '^\s*//[/!] ?```' "$src" || continue
	n=$((n + 1))
	name=$(echo "${src#rust/rnm/}" | tr '/.' '__')
	count=$(extract "$src" "$out/$name.rs")
	case "$count" in
	ignore:*)
		echo "not ok $n doctest $src # example at line ${count#ignore:} is marked ignore"
		failed=$((failed + 1))
		continue ;;
	0) continue ;;
	esac
	if rustc_check "$name" "$(rustc_root "$name" "$out/$name.rs")" "$out/$name.log"; then
		echo "ok $n doctest $src ($count examples)"
	else
		echo "not ok $n doctest $src # does not compile: see $out/$name.log"
		failed=$((failed + 1))
	fi
done
echo "# doctests: $((n - failed)) passed, $failed failed"
[ $failed = 0 ]
