# SPDX-License-Identifier: GPL-2.0

obj-$(CONFIG_VNAPI) += vnapi.o
vnapi-y := vnapi_main.o
