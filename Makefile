# SPDX-License-Identifier: GPL-2.0
#
# Rust network modules for the stock Debian kernel.
#
#   make                 build the modules (sets up the build root first)
#   make run             build, boot the stock kernel in QEMU and show the
#                        modules working
#   make check           the whole test suite: unit tests, fuzzing, kselftests
#                        in QEMU; ends with "N passed, N failed"
#                        (then the debug kernel, as time allows;
#                        RNM_DEBUG=0 leaves it out)
#   make fuzz            every fuzz target of every crate, until 10^7
#                        executions in all (RNM_FUZZ_RUNS); prints the count
#   make debug-kernel    configure and build the debug kernel (KASAN, lockdep,
#                        kmemleak) the suite also runs on
#   make check-builtin   the debug kernel with the modules built in (=y):
#                        build it, boot it, run the FTP and vnapi tests
#   make deb             a Debian package of the modules for the stock kernel,
#                        checked with lintian (out/deb/)
#   make KDIR=<tree>     build against another prepared kernel tree with
#                        CONFIG_RUST (no build root involved)
#   make clippy          build with CLIPPY=1
#   make intree-patches  the in-tree form: a patch series for the kernel
#                        source (out/intree-patches/, applies with git am)
#   make intree-check    apply that series to a copy of linux-source and
#                        build the modules in Debian's configuration
#   make clean
#
# The kbuild side of the build is in Kbuild.

KDIR ?=
ifeq ($(KDIR),)
ifeq ($(RNM_IN_ROOT),1)
KDIR := /opt/rnm/kbuild
# The compiler the Debian kernel was built with.
export CC := x86_64-linux-gnu-gcc-14
endif
endif

PHONY := all modules run check clippy clean setup unit fuzz debug-kernel deb
PHONY += check-builtin
PHONY += intree-patches intree-check
.PHONY: $(PHONY)

ifeq ($(KDIR),)
# On the host: everything happens inside the build root.
all modules clippy:
	@scripts/setup.sh >/dev/null
	@scripts/in-root.sh $(MAKE) --no-print-directory $@

clean:
	@if [ -d /var/cache/rust-netmods/root/opt/rnm/kbuild ]; then \
		scripts/in-root.sh $(MAKE) --no-print-directory $@; fi
	rm -rf out

setup:
	@scripts/setup.sh

run: modules
	@scripts/run.sh

check:
	@scripts/check.sh

unit:
	@scripts/check.sh --unit-only

# The kernel's C that the diff_c targets compare with comes from the build
# root's linux-source tree.
fuzz:
	@scripts/setup.sh >/dev/null
	@scripts/fuzz-all.sh

debug-kernel:
	@scripts/setup.sh >/dev/null
	@scripts/debug-kernel.sh

check-builtin:
	@scripts/setup.sh >/dev/null
	@scripts/check-builtin.sh

deb: modules
	@scripts/deb.sh

intree-patches:
	@scripts/setup.sh >/dev/null
	@scripts/intree-patches.sh

intree-check:
	@scripts/setup.sh >/dev/null
	@scripts/intree-patches.sh --check

else
# Inside the build root, or against the tree given in KDIR.
ifneq ($(MAKECMDGOALS),clean)
ifeq ($(wildcard $(KDIR)/.config),)
$(error KDIR=$(KDIR) is not a configured kernel tree (no .config))
endif
ifeq ($(shell grep -x 'CONFIG_RUST=y' $(KDIR)/.config),)
$(error KDIR=$(KDIR) has no CONFIG_RUST=y: Rust modules cannot be built for it)
endif
ifeq ($(wildcard $(KDIR)/rust/libkernel.rmeta),)
$(error KDIR=$(KDIR) has no rust/libkernel.rmeta: run modules_prepare in it)
endif
endif

# make's built-in CC=cc must not reach kbuild: it would override LLVM=.
kbuild-cc := $(if $(filter-out default,$(origin CC)),CC=$(CC))

all modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) $(kbuild-cc) modules
	@scripts/check-symbols.sh $(KDIR)/Module.symvers $$(sed 's/\.o$$/.ko/' modules.order)

clippy:
	$(MAKE) -C $(KDIR) M=$(CURDIR) $(kbuild-cc) CLIPPY=1 modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -f rust/bindings/bindings_generated.rs
endif
