#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The main job: boot the stock Debian kernel in QEMU with the project's
# modules and show them working.  Run by "make run" after the build.

set -eo pipefail
. "$(dirname "$0")/lib.sh"
cd "$RNM_TOP"
mkdir -p out
scripts/in-root.sh scripts/vm.sh "scripts/demo.sh" 2>&1 | tee out/run.log
