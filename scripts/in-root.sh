#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run a command inside the build root, with the repository mounted at the
# same path.  Usage: scripts/in-root.sh COMMAND [ARGS...]

set -eo pipefail
. "$(dirname "$0")/lib.sh"
in_root "$@"
