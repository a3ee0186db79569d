#include "sf_remote.h"

#include "sf_ini.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int valid_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > SF_REMOTE_NAME_MAX || name[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return 0;
    }
    return 1;
}

/* The default remote control of the test pack at sha, into out. */
static int default_name(sf_testpack *tp, const char *sha, char *out, size_t len, sf_error *err)
{
    char *text = NULL;
    size_t n;
    cJSON *ini = NULL;
    int rc = sf_testpack_read(tp, sha, ".stbt.conf", &text, &n, err);
    if (rc == SF_ENOTFOUND)
        rc = sf_fail(err, SF_EINVAL,
                     "remote_control is required: the test pack has no "
                     ".stbt.conf to set [test_pack] default_remote_control");
    if (!rc && sf_ini_parse(text, n, &ini, err))
        rc = sf_wrap(err, SF_EINVAL,
                     "remote_control is required, and the test pack's "
                     ".stbt.conf cannot be read: ");
    const char *def = rc ? NULL : sf_ini_get(ini, "test_pack", "default_remote_control");
    if (!rc && (!def || !*def))
        rc = sf_fail(err, SF_EINVAL,
                     "remote_control is required: the test pack's .stbt.conf "
                     "sets no [test_pack] default_remote_control");
    if (!rc)
        snprintf(out, len, "%s", def);
    cJSON_Delete(ini);
    free(text);
    return rc;
}

int sf_remote_open(sf_testpack *tp, const char *sha, const char *given, sf_remote *out,
                   sf_error *err)
{
    memset(out, 0, sizeof(*out));
    int rc = 0;
    if (given)
        snprintf(out->name, sizeof(out->name), "%s", given);
    else
        rc = default_name(tp, sha, out->name, sizeof(out->name), err);
    if (rc)
        return rc;
    if (!valid_name(out->name) || (given && strlen(given) > SF_REMOTE_NAME_MAX))
        return sf_fail(err, SF_EINVAL,
                       "unknown remote_control '%.100s': not a valid name (A-Z a-z 0-9 . _ -)",
                       given ? given : out->name);
    char path[160], *text = NULL;
    size_t len;
    snprintf(path, sizeof(path), "config/remote-control/%s.lircd.conf", out->name);
    rc = sf_testpack_read(tp, sha, path, &text, &len, err);
    if (rc == SF_ENOTFOUND)
        rc = sf_fail(err, SF_EINVAL,
                     "unknown remote_control '%s': the test pack has no %s at "
                     "%.12s",
                     out->name, path, sha);
    if (!rc && sf_lircd_parse(text, len, &out->conf, err))
        rc = sf_wrap(err, SF_EINVAL, "remote_control '%s': %s: ", out->name, path);
    free(text);
    if (rc)
        return rc;
    /* the remote in the file named like the file, else the file's first */
    out->remote = sf_lircd_remote_find(out->conf, out->name);
    if (!out->remote)
        out->remote = &out->conf->remotes[0];
    out->lirc_name = out->remote->name;
    return 0;
}

void sf_remote_close(sf_remote *r)
{
    sf_lircd_free(r->conf);
    memset(r, 0, sizeof(*r));
}

int sf_remote_key(const sf_remote *r, const char *key, sf_error *err)
{
    if (sf_lircd_has_key(r->remote, key))
        return 0;
    return sf_fail(err, SF_EINVAL, "unknown key '%.128s' for remote_control '%s'", key, r->name);
}
