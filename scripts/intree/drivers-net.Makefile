obj-$(CONFIG_VNAPI) += vnapi/
