obj-$(CONFIG_NF_CONNTRACK_FTP_RS) += nf_conntrack_ftp_rs.o
nf_conntrack_ftp_rs-y := nf_conntrack_ftp_rs_main.o nf_conntrack_rust.o
