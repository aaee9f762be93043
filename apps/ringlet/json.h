/*
 * json.h - a minimal streaming JSON writer for the programs' output.
 *
 * SIP carries arbitrary octets; strings are written byte by byte with every
 * control character and every non-ASCII octet escaped as \u00XX (read as
 * Latin-1), so the output is always valid JSON whatever came off the wire.
 */
#ifndef RINGLET_APP_JSON_H
#define RINGLET_APP_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json {
	FILE *f;
	int depth;
	bool first[JSON_MAX_DEPTH]; /* no member written yet at this depth */
	bool pretty;
};

void json_init(struct json *j, FILE *f, bool pretty);
void json_obj_begin(struct json *j, const char *key);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j, const char *key);
void json_arr_end(struct json *j);
/* key may be NULL inside arrays. */
void json_strn(struct json *j, const char *key, const char *s, size_t len);
void json_str(struct json *j, const char *key, const char *s);
void json_int(struct json *j, const char *key, int64_t v);
void json_bool(struct json *j, const char *key, bool v);
void json_null(struct json *j, const char *key);
/* Ends the document with a newline. */
void json_end(struct json *j);

#endif
