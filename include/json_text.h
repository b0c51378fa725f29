#ifndef PATROND_JSON_TEXT_H
#define PATROND_JSON_TEXT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The literal text of JSON values whose exact spelling matters: jansson
 * reads 3.5 into a double, which cannot hold most decimal amounts exactly
 * (SPEC §2), and providers sign the amount as they wrote it. */

/* [*start, *start + *n) ← the raw text of the value of top-level member
 * `key` of the object in json (len bytes). The text must already have
 * been accepted by jansson; a key spelled with escapes is not found.
 * False when absent or when the text is not an object. */
bool json_member_text(const char *json, size_t len, const char *key, const char **start, size_t *n);

/* dst ← the decimal text of root's member `key` (root parsed from json):
 * a number's literal spelling, or a string's value; "" when absent or
 * null. False for any other type, a value that does not fit, or a literal
 * that is not the number jansson read (the two parses disagree). */
bool json_decimal_text(json_t *root, const char *json, size_t len, const char *key, char *dst,
                       size_t dst_len);

#endif
