// SPDX-License-Identifier: GPL-2.0
/*
 * The parsers of net/netfilter/nf_conntrack_ftp.c and net/core/utils.c,
 * cut out of the kernel source at build time (kernel_parsers.h, see
 * build.rs), behind wrappers for the diff_c fuzz target.  Each wrapper
 * calls its function as nf_conntrack_ftp.c does: help() fills cmd with the
 * connection's family and the source address of the packet's direction
 * before the search, and find_pattern() passes the search table's fields.
 */

#include "shim.h"
#include "kernel_parsers.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

typedef int (*getnum_fn)(const char *, size_t, struct nf_conntrack_man *, char,
			 unsigned int *);

/* In the order of ftp_proto's enum Parser. */
static const getnum_fn getnums[] = {
	try_rfc959, try_rfc1123, try_eprt, try_epsv_response,
};

/* What a parser returned and what it left in cmd. */
struct rnm_c_parsed {
	/* The return value: a length (0: failure); of find_pattern(), 1, 0 or -1. */
	int ret;
	/* *offset of a getnum function, *numoff of find_pattern(). */
	unsigned int off;
	/* *numlen of find_pattern(). */
	unsigned int len;
	/* cmd.u3.all. */
	uint8_t addr[16];
	/* ntohs(cmd.u.tcp.port). */
	uint16_t port;
	/* The type of the search table entry that decided (help()'s loop), or -1. */
	int ftype;
};

/* One entry of the search table. */
struct rnm_c_entry {
	const char *pattern;
	size_t plen;
	unsigned char skip;
	unsigned char term;
	int ftype;
	/* Index of getnum in getnums[], or -1. */
	int parser;
};

static void cmd_init(struct nf_conntrack_man *cmd, uint16_t l3num, const uint8_t *src)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->l3num = l3num;
	memcpy(cmd->u3.all, src, sizeof(cmd->u3.all));
}

static void cmd_out(struct rnm_c_parsed *r, const struct nf_conntrack_man *cmd)
{
	memcpy(r->addr, cmd->u3.all, sizeof(r->addr));
	r->port = ntohs(cmd->u.tcp.port);
}

size_t rnm_c_search_entries(void)
{
	return ARRAY_SIZE(search[0]);
}

void rnm_c_search_entry(int dir, size_t i, struct rnm_c_entry *e)
{
	const struct ftp_search *s = &search[dir][i];
	size_t p;

	e->pattern = s->pattern;
	e->plen = s->plen;
	e->skip = s->skip;
	e->term = s->term;
	e->ftype = s->ftptype;
	e->parser = -1;
	for (p = 0; p < ARRAY_SIZE(getnums); p++)
		if (s->getnum == getnums[p])
			e->parser = p;
}

void rnm_c_getnum(int parser, const char *data, size_t dlen, unsigned char term,
		  uint16_t l3num, const uint8_t *src, struct rnm_c_parsed *r)
{
	struct nf_conntrack_man cmd;

	cmd_init(&cmd, l3num, src);
	r->off = 0;
	r->len = 0;
	r->ret = getnums[parser](data, dlen, &cmd, term, &r->off);
	cmd_out(r, &cmd);
}

void rnm_c_find_pattern(int dir, size_t i, const char *data, size_t dlen,
			uint16_t l3num, const uint8_t *src, struct rnm_c_parsed *r)
{
	const struct ftp_search *s = &search[dir][i];
	struct nf_conntrack_man cmd;

	cmd_init(&cmd, l3num, src);
	r->off = 0;
	r->len = 0;
	r->ret = find_pattern(data, dlen, s->pattern, s->plen, s->skip, s->term,
			      &r->off, &r->len, &cmd, s->getnum);
	cmd_out(r, &cmd);
}

/* The search loop of help(), on one cmd for all entries. */
void rnm_c_search(int dir, const char *data, size_t dlen, uint16_t l3num,
		  const uint8_t *src, struct rnm_c_parsed *r)
{
	struct nf_conntrack_man cmd;
	unsigned int i;
	int found = 0;

	cmd_init(&cmd, l3num, src);
	r->off = 0;
	r->len = 0;
	for (i = 0; i < ARRAY_SIZE(search[dir]); i++) {
		found = find_pattern(data, dlen, search[dir][i].pattern,
				     search[dir][i].plen, search[dir][i].skip,
				     search[dir][i].term, &r->off, &r->len, &cmd,
				     search[dir][i].getnum);
		if (found)
			break;
	}
	r->ret = found;
	r->ftype = found ? (int)search[dir][i].ftptype : -1;
	cmd_out(r, &cmd);
}

int rnm_c_get_ipv6_addr(const char *src, size_t dlen, uint8_t *dst, unsigned char term)
{
	return get_ipv6_addr(src, dlen, (struct in6_addr *)dst, term);
}

int rnm_c_get_port(const char *data, int start, size_t dlen, unsigned char delim,
		   uint16_t *port)
{
	__be16 p = 0;
	int ret = get_port(data, start, dlen, delim, &p);

	*port = ntohs(p);
	return ret;
}

int rnm_c_try_number(const char *data, size_t dlen, uint32_t *array, int n,
		     unsigned char sep, unsigned char term)
{
	return try_number(data, dlen, array, n, sep, term);
}

/* in6_pton() if ipv6, else in4_pton(); *endoff is the offset of *end. */
int rnm_c_pton(bool ipv6, const char *src, int srclen, uint8_t *dst, int delim,
	       size_t *endoff)
{
	const char *end = NULL;
	int ret = ipv6 ? in6_pton(src, srclen, dst, delim, &end) :
			 in4_pton(src, srclen, dst, delim, &end);

	*endoff = end - src;
	return ret;
}
