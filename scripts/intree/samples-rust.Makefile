obj-$(CONFIG_SAMPLE_RUST_SYSCTL)		+= rust_sysctl_sample.o
