#include "sf_lirc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sf_lirc_cmd_parse(const char *line, size_t len, sf_lirc_cmd *out)
{
    memset(out, 0, sizeof(*out));
    if (len && line[len - 1] == '\r')
        len--;
    const char *p = line, *end = line + len;
    int nwords = 0;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (p == end)
            break;
        const char *w = p;
        while (p < end && *p != ' ' && *p != '\t')
            p++;
        size_t n = (size_t)(p - w);
        if (n > SF_LIRC_WORD_MAX || nwords > SF_LIRC_ARGS_MAX || memchr(w, '\0', n))
            return SF_EINVAL;
        char *dest = nwords == 0 ? out->directive : out->argv[nwords - 1];
        memcpy(dest, w, n);
        dest[n] = '\0';
        nwords++;
    }
    if (nwords == 0)
        return SF_EINVAL;
    for (char *c = out->directive; *c; c++)
        *c = (char)toupper((unsigned char)*c);
    out->argc = nwords - 1;
    return 0;
}

size_t sf_lirc_reply_format(char *buf, size_t len, const char *command, int success,
                            const char *const *data, size_t n_data)
{
    size_t o = 0;
    int n = snprintf(buf, len, "BEGIN\n%s\n%s\n", command, success ? "SUCCESS" : "ERROR");
    if (n < 0 || (size_t)n >= len)
        return 0;
    o = (size_t)n;
    if (n_data) {
        n = snprintf(buf + o, len - o, "DATA\n%zu\n", n_data);
        if (n < 0 || (size_t)n >= len - o)
            return 0;
        o += (size_t)n;
        for (size_t i = 0; i < n_data; i++) {
            n = snprintf(buf + o, len - o, "%s\n", data[i]);
            if (n < 0 || (size_t)n >= len - o)
                return 0;
            o += (size_t)n;
        }
    }
    n = snprintf(buf + o, len - o, "END\n");
    if (n < 0 || (size_t)n >= len - o)
        return 0;
    return o + (size_t)n;
}

void sf_lirc_reply_init(sf_lirc_reply *r, const char *command)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->command, sizeof(r->command), "%s", command);
    r->wait = SF_LIRC_WAIT_BEGIN;
}

static int is(const char *line, size_t len, const char *lit)
{
    return len == strlen(lit) && !memcmp(line, lit, len);
}

int sf_lirc_reply_line(sf_lirc_reply *r, const char *line, size_t len)
{
    if (len && line[len - 1] == '\r')
        len--;
    switch (r->wait) {
    case SF_LIRC_WAIT_BEGIN:
        if (is(line, len, "BEGIN"))
            r->wait = SF_LIRC_WAIT_COMMAND;
        return 0; /* anything else is a broadcast IR event */
    case SF_LIRC_WAIT_COMMAND:
        /* lircd echoes the command; another block (SIGHUP) is skipped to its END */
        r->wait = len == strlen(r->command) && !memcmp(line, r->command, len) ? SF_LIRC_WAIT_STATUS
                                                                              : SF_LIRC_SKIP_BLOCK;
        return 0;
    case SF_LIRC_SKIP_BLOCK:
        if (is(line, len, "END"))
            r->wait = SF_LIRC_WAIT_BEGIN;
        return 0;
    case SF_LIRC_WAIT_STATUS:
        if (is(line, len, "SUCCESS"))
            r->success = 1;
        else if (!is(line, len, "ERROR"))
            return SF_EINVAL;
        r->wait = SF_LIRC_WAIT_DATA_OR_END;
        return 0;
    case SF_LIRC_WAIT_DATA_OR_END:
        if (is(line, len, "END"))
            return 1;
        if (!is(line, len, "DATA"))
            return SF_EINVAL;
        r->wait = SF_LIRC_WAIT_COUNT;
        return 0;
    case SF_LIRC_WAIT_COUNT: {
        char num[16];
        if (len == 0 || len >= sizeof(num))
            return SF_EINVAL;
        for (size_t i = 0; i < len; i++) {
            if (!isdigit((unsigned char)line[i]))
                return SF_EINVAL;
        }
        memcpy(num, line, len);
        num[len] = '\0';
        r->data_left = strtol(num, NULL, 10);
        r->wait = r->data_left ? SF_LIRC_WAIT_DATA : SF_LIRC_WAIT_END;
        return 0;
    }
    case SF_LIRC_WAIT_DATA:
        if (!r->data[0]) {
            size_t n = len < SF_LIRC_LINE_MAX ? len : SF_LIRC_LINE_MAX;
            memcpy(r->data, line, n);
            r->data[n] = '\0';
        }
        if (--r->data_left == 0)
            r->wait = SF_LIRC_WAIT_END;
        return 0;
    case SF_LIRC_WAIT_END:
        return is(line, len, "END") ? 1 : SF_EINVAL;
    }
    return SF_EINVAL;
}
