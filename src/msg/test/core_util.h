/*
 * core_util.h - helpers shared by the message core tests (test_msg_parse.c,
 * test_msg_validate.c, test_msg_print.c): guard-page buffers, file reading,
 * the torture manifest, and message comparison.
 */
#ifndef RINGLET_TEST_CORE_UTIL_H
#define RINGLET_TEST_CORE_UTIL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ringlet/msg.h"

/*
 * A copy of some bytes that ends right before a PROT_NONE page, so that any
 * read past the end faults (picohttpparser's test habit).
 */
struct gbuf {
	char *map;
	size_t maplen;
	char *p;
};

static inline char *gbuf_put(struct gbuf *g, const void *data, size_t n)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t dpages = n / pg + 1;

	g->maplen = (dpages + 1) * pg;
	g->map = mmap(NULL, g->maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g->map == MAP_FAILED) {
		perror("mmap");
		abort();
	}
	if (mprotect(g->map + dpages * pg, pg, PROT_NONE) != 0) {
		perror("mprotect");
		abort();
	}
	g->p = g->map + dpages * pg - n;
	if (n > 0)
		memcpy(g->p, data, n);
	return g->p;
}

static inline void gbuf_free(struct gbuf *g)
{
	munmap(g->map, g->maplen);
}

/* Whole file into a malloc'd buffer (caller frees); NULL if unreadable. */
static inline char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			char *nb = realloc(buf, cap);
			if (nb == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		size_t r = fread(buf + n, 1, cap - n, f);
		if (r == 0)
			break;
		n += r;
	}
	fclose(f);
	*len = n;
	return buf;
}

/* Copy src into dst[cap], truncating; always NUL-terminated. */
static inline void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* dir + "/" + file into path[cap]; false if it does not fit. */
static inline bool join_path(char *path, size_t cap, const char *dir, const char *file)
{
	int n = snprintf(path, cap, "%s/%s", dir, file);
	return n >= 0 && (size_t)n < cap;
}

static inline const char *torture_dir(void)
{
	const char *d = getenv("RINGLET_TORTURE");
	return d != NULL ? d : "../shared/torture";
}

/* One row of ../shared/torture/MANIFEST.tsv. */
struct trow {
	char file[128];
	char validity[32];
	char ideal[64];
};

/*
 * Read every row of the manifest into rows (at most max).  Returns the
 * number of rows, or -1 when the manifest cannot be read.
 */
static inline int torture_rows(struct trow *rows, int max)
{
	char path[512];
	size_t len;
	int n = 0;

	if (!join_path(path, sizeof(path), torture_dir(), "MANIFEST.tsv"))
		return -1;
	char *text = read_file(path, &len);
	if (text == NULL)
		return -1;
	char *p = text, *end = text + len;
	while (p < end && n < max) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *le = nl ? nl : end;
		char *col[8] = {0};
		int nc = 0;
		char *s = p;
		while (nc < 8 && s <= le) {
			char *t = memchr(s, '\t', (size_t)(le - s));
			char *ce = t ? t : le;
			col[nc++] = s;
			*ce = '\0';
			s = ce + 1;
			if (!t)
				break;
		}
		if (p[0] != '#' && nc >= 6 && strcmp(col[0], "file") != 0) {
			copy_str(rows[n].file, sizeof(rows[n].file), col[0]);
			copy_str(rows[n].validity, sizeof(rows[n].validity), col[2]);
			copy_str(rows[n].ideal, sizeof(rows[n].ideal), col[5]);
			n++;
		}
		p = le + 1;
	}
	free(text);
	return n;
}

/* Read a torture message (caller frees); aborts the test run when missing. */
static inline char *torture_read(const char *file, size_t *len)
{
	char path[512];
	char *b = join_path(path, sizeof(path), torture_dir(), file) ? read_file(path, len) : NULL;
	if (b == NULL) {
		fprintf(stderr, "cannot read %s (set RINGLET_TORTURE)\n", path);
		abort();
	}
	return b;
}

/* Span equality with CR and LF removed from both sides (folding undone). */
static inline bool span_eq_unfolded(const char *a, struct span sa, const char *b, struct span sb)
{
	uint32_t i = 0, j = 0;
	for (;;) {
		while (i < sa.len && (a[sa.off + i] == '\r' || a[sa.off + i] == '\n'))
			i++;
		while (j < sb.len && (b[sb.off + j] == '\r' || b[sb.off + j] == '\n'))
			j++;
		if (i == sa.len || j == sb.len)
			return i == sa.len && j == sb.len;
		if (a[sa.off + i] != b[sb.off + j])
			return false;
		i++;
		j++;
	}
}

static inline bool span_same(const char *a, struct span sa, const char *b, struct span sb)
{
	return sa.len == sb.len && memcmp(a + sa.off, b + sb.off, sa.len) == 0;
}

/*
 * Same message field by field: start line, header ids/names/values in order
 * (Content-Length left out: msg_print rewrites it), body.  On a difference,
 * writes what differs into why.
 */
static inline bool msg_same(const struct msg *x, const struct msg *y, char *why, size_t wlen)
{
	const char *a = x->buf, *b = y->buf;
	uint16_t i = 0, j = 0;

	if (x->is_request != y->is_request || x->status != y->status || x->method != y->method ||
	    !span_same(a, x->method_s, b, y->method_s) || !span_same(a, x->ruri_s, b, y->ruri_s) ||
	    !span_same(a, x->reason, b, y->reason) || !span_same(a, x->version, b, y->version)) {
		snprintf(why, wlen, "start line differs");
		return false;
	}
	if (!span_same(a, x->body, b, y->body)) {
		snprintf(why, wlen, "body differs (%u vs %u bytes)", x->body.len, y->body.len);
		return false;
	}
	for (;;) {
		while (i < x->nhdrs && x->hdrs[i].id == MSG_HDR_CONTENT_LENGTH)
			i++;
		while (j < y->nhdrs && y->hdrs[j].id == MSG_HDR_CONTENT_LENGTH)
			j++;
		if (i == x->nhdrs || j == y->nhdrs)
			break;
		const struct msg_hdr *h = &x->hdrs[i], *k = &y->hdrs[j];
		if (h->id != k->id || (h->flags & MSG_HDRF_FIRST) != (k->flags & MSG_HDRF_FIRST) ||
		    !span_same(a, h->name, b, k->name) ||
		    !span_eq_unfolded(a, h->value, b, k->value)) {
			snprintf(why, wlen, "header %u differs: %.*s: %.*s", i, (int)h->name.len,
				 a + h->name.off, (int)h->value.len, a + h->value.off);
			return false;
		}
		i++;
		j++;
	}
	if (i != x->nhdrs || j != y->nhdrs) {
		snprintf(why, wlen, "header count differs");
		return false;
	}
	return true;
}

#endif
