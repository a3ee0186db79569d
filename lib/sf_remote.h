/* sf_remote.h - a test pack's remote controls, as run_tests, manual key presses and test
 * scripts use them. A remote control is config/remote-control/<name>.lircd.conf in the test
 * pack; when a request names none, the test pack's default is .stbt.conf's
 * [test_pack] default_remote_control. */
#ifndef SF_REMOTE_H
#define SF_REMOTE_H

#include "sf_err.h"
#include "sf_lircd.h"
#include "sf_testpack.h"

#define SF_REMOTE_NAME_MAX 100

typedef struct sf_remote {
    char name[SF_REMOTE_NAME_MAX + 1]; /* as the test pack names it (the file name) */
    const char *lirc_name;             /* as its lircd.conf names it: what lircd is told */
    sf_lircd_conf *conf;
    const sf_lircd_remote *remote;
} sf_remote;

/* Load the remote control `given` (or, when NULL, the test pack's default) at commit sha.
 * SF_EINVAL naming the problem: no default, a name that cannot be a file, no such file, a
 * lircd.conf that does not parse. Close with sf_remote_close. */
int sf_remote_open(sf_testpack *tp, const char *sha, const char *given, sf_remote *out,
                   sf_error *err);
void sf_remote_close(sf_remote *r);

/* 0 when the remote has key; SF_EINVAL naming both otherwise. */
int sf_remote_key(const sf_remote *r, const char *key, sf_error *err);

#endif
