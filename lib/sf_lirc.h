/* sf_lirc.h - the LIRC daemon's socket protocol, both sides: what stbfarm-vstb answers like
 * lircd does, and what stbfarm-nodesvc reads back from lircd (or from the vstb). Pure: no I/O.
 *
 * A client writes one command per line ("SEND_ONCE vstb KEY_MENU\n"); the daemon answers
 *   BEGIN / <the command as received> / SUCCESS or ERROR / [DATA / <n> / n lines] / END
 * and may write other lines between replies (decoded IR events, "BEGIN\nSIGHUP\nEND"), which a
 * client skips. */
#ifndef SF_LIRC_H
#define SF_LIRC_H

#include "sf_err.h"

#include <stddef.h>

#define SF_LIRC_LINE_MAX 512 /* longest command line either side accepts */
#define SF_LIRC_ARGS_MAX 4
#define SF_LIRC_WORD_MAX 128

/* ---- daemon side ---- */

typedef struct sf_lirc_cmd {
    char directive[SF_LIRC_WORD_MAX + 1]; /* upper-cased: "SEND_ONCE" */
    int argc;
    char argv[SF_LIRC_ARGS_MAX][SF_LIRC_WORD_MAX + 1];
} sf_lirc_cmd;

/* Split one command line (without its newline; a trailing CR is dropped) into directive and
 * arguments. Returns 0; SF_EINVAL for an empty line, a word longer than SF_LIRC_WORD_MAX or
 * more than SF_LIRC_ARGS_MAX arguments. */
int sf_lirc_cmd_parse(const char *line, size_t len, sf_lirc_cmd *out);

/* Format the daemon's reply to command line `command` into buf: SUCCESS, or ERROR, with the
 * n_data lines of data when n_data > 0. Returns the length, or 0 when it does not fit. */
size_t sf_lirc_reply_format(char *buf, size_t len, const char *command, int success,
                            const char *const *data, size_t n_data);

/* ---- client side ---- */

typedef enum {
    SF_LIRC_WAIT_BEGIN,
    SF_LIRC_WAIT_COMMAND,
    SF_LIRC_WAIT_STATUS,
    SF_LIRC_WAIT_DATA_OR_END,
    SF_LIRC_WAIT_COUNT,
    SF_LIRC_WAIT_DATA,
    SF_LIRC_WAIT_END,
    SF_LIRC_SKIP_BLOCK
} sf_lirc_wait;

typedef struct sf_lirc_reply {
    char command[SF_LIRC_LINE_MAX + 1]; /* the command whose reply we wait for */
    sf_lirc_wait wait;
    int success;
    long data_left;
    char data[SF_LIRC_LINE_MAX + 1]; /* the first data line (an error's message) */
} sf_lirc_reply;

/* Wait for the reply to command (as sent, without the newline). */
void sf_lirc_reply_init(sf_lirc_reply *r, const char *command);

/* Feed one line the daemon wrote (without its newline). Returns 0 while the reply is not
 * complete, 1 when it is (r->success; r->data holds an error's message), SF_EINVAL when the
 * daemon broke the protocol. */
int sf_lirc_reply_line(sf_lirc_reply *r, const char *line, size_t len);

#endif
