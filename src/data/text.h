/*
 * data/text.h — strict number parsing and line iteration shared by the CSV and LIBSVM parsers.
 *
 * Text is given as (pointer, length) and need not be NUL-terminated; fields are copied into a
 * small buffer before strtod/strtol so an end pointer can prove the whole field was a number.
 */
#ifndef SOMA_DATA_TEXT_H
#define SOMA_DATA_TEXT_H

#include "soma/data.h"

/* Largest class label accepted from text formats (n_classes = max label + 1). */
#define SOMA_TEXT_MAX_LABEL 65535L
/* Largest n * dim a text file may ask for (4 GiB of floats): a guard against a corrupt index
 * such as "1 2000000000:1" turning into a huge zero-filled allocation. */
#define SOMA_TEXT_MAX_VALUES (1LL << 30)
/* Bound on the (decompressed) size of a text file read by the loaders. */
#define SOMA_TEXT_MAX_BYTES ((size_t)SOMA_IDX_MAX_BYTES)

typedef struct soma_text_cursor {
    const char *p, *end;
    long line; /* 1-based number of the line last returned */
} soma_text_cursor;

/* Starts at text (skipping a UTF-8 byte-order mark). */
void soma_text_begin(soma_text_cursor *c, const char *text, size_t len);
/* Returns the next line without its '\n' (and a trailing '\r'); false at the end. */
bool soma_text_next(soma_text_cursor *c, const char **s, size_t *n);
/* Strips spaces and tabs from both ends. */
void soma_text_trim(const char **s, size_t *n);
/* True if [s, s+n) is, as a whole, something strtod accepts (NaN and inf included). */
bool soma_text_is_number(const char *s, size_t n);
/* Parses a finite number that fits a float. On failure fills err with
 * "<name>:<line>: <what>: ..." and returns SOMA_E_FORMAT. */
int soma_text_float(float *v, const char *s, size_t n, const char *name, long line,
                    const char *what, soma_error *err);
/* Parses a base-10 integer (optional sign) that fits a long; same error convention. */
int soma_text_long(long *v, const char *s, size_t n, const char *name, long line,
                   const char *what, soma_error *err);
/* Writes a printable, quoted, length-limited copy of [s, s+n) for messages; returns out. */
const char *soma_text_quote(char out[64], const char *s, size_t n);

#endif
