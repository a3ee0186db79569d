/* sf_lircd.h - LIRC remote control definitions (lircd.conf), as a test pack's
 * config/remote-control/<name>.lircd.conf holds them: which remotes a file defines and which
 * keys each one has. Pure: no I/O.
 *
 * The grammar is lircd's: '#' starts a comment; "begin remote" ... "end remote" holds parameter
 * lines ("name vstb", "bits 16", "flags SPACE_ENC|CONST_LENGTH", ...), then "begin codes" ...
 * "end codes" with one "KEY_NAME 0x1234 [0x...]" per line, or "begin raw_codes" ...
 * "end raw_codes" with "name KEY_NAME" followed by lines of pulse/space lengths. */
#ifndef SF_LIRCD_H
#define SF_LIRCD_H

#include "sf_err.h"

#include <stddef.h>

/* Bounds, far beyond any real remote control: past them the file is refused. */
#define SF_LIRCD_MAX_KEYS    2048 /* per remote */
#define SF_LIRCD_MAX_REMOTES 128  /* per file */
#define SF_LIRCD_STR_(x)     #x
#define SF_LIRCD_STR(x)      SF_LIRCD_STR_(x)

typedef struct sf_lircd_remote {
    char *name;
    size_t n_keys;
    char **keys; /* in file order */
} sf_lircd_remote;

typedef struct sf_lircd_conf {
    size_t n_remotes;
    sf_lircd_remote *remotes;
} sf_lircd_conf;

/* Parse text (len bytes). Returns 0 with *out (free with sf_lircd_free), or SF_EINVAL naming the
 * line and what is wrong with it. A file without any remote is an error. */
int sf_lircd_parse(const char *text, size_t len, sf_lircd_conf **out, sf_error *err);
void sf_lircd_free(sf_lircd_conf *conf);

/* The remote named name, or NULL. */
const sf_lircd_remote *sf_lircd_remote_find(const sf_lircd_conf *conf, const char *name);

/* 1 when the remote has key. */
int sf_lircd_has_key(const sf_lircd_remote *remote, const char *key);

#endif
