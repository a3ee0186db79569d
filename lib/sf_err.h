/* sf_err.h - the error type of every stbfarm function that can fail.
 *
 * Functions return 0 on success or a negative code. A code is minus the HTTP status a client
 * should see (SF_ENOTFOUND == -404), so an error found deep in a service reaches the HTTP reply
 * unchanged. Callers that want a message pass an sf_error; it receives text a person can act on
 * ("unknown node_id 'stb-tester-0042'"), never a bare errno. */
#ifndef SF_ERR_H
#define SF_ERR_H

#include <stddef.h>

enum {
    SF_OK = 0,
    SF_EINVAL = -400,
    SF_EFORBIDDEN = -403,
    SF_ENOTFOUND = -404,
    SF_EMETHOD = -405,
    SF_ECONFLICT = -409,
    SF_EGONE = -410,
    SF_ETOOLARGE = -413,
    SF_ERANGE = -416,
    SF_ETOOMANY = -429,
    SF_EINTERNAL = -500,
    SF_EUNAVAIL = -503,
    SF_ENOSPACE = -507, /* a disk is full: retry once there is room */
};

#define SF_ERROR_MSG_MAX 512

typedef struct sf_error {
    int code;
    char msg[SF_ERROR_MSG_MAX];
} sf_error;

#define SF_ERROR_INIT                                                                              \
    {                                                                                              \
        0,                                                                                         \
        {                                                                                          \
            0                                                                                      \
        }                                                                                          \
    }

/* Record code and message in err (which may be NULL) and return code, so that a failing path
 * reads `return sf_fail(err, SF_ENOTFOUND, "unknown node_id '%s'", id);`. */
int sf_fail(sf_error *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Put a prefix before the message err already holds, and set code: for adding context to an
 * error from a lower layer ("node x did not accept the job: <why>"). Returns code. */
int sf_wrap(sf_error *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The HTTP status for a code: 200 for SF_OK, -code for an SF_E* code, 500 for anything else. */
int sf_http_status(int code);

/* The standard reason phrase of an HTTP status ("Not Found"). */
const char *sf_http_reason(int status);

#endif
