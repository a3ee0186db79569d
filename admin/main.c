/* stbfarm-admin: what an operator does to the farm's data, from the command line.
 *   stbfarm-admin [--redis ADDR] token create USER      prints a new token for USER
 *   stbfarm-admin [--redis ADDR] token revoke TOKEN
 *   stbfarm-admin [--redis ADDR] user add NAME [--role ROLE] [--password-file FILE]
 *                         without a file, generates a password and prints it
 *   stbfarm-admin [--redis ADDR] user passwd NAME [--password-file FILE]
 *   stbfarm-admin [--redis ADDR] user role NAME ROLE
 *   stbfarm-admin [--redis ADDR] user remove NAME      also revokes their tokens and sessions
 *   stbfarm-admin [--redis ADDR] user list
 *   stbfarm-admin [--redis ADDR] user ensure NAME --role ROLE --password-file FILE
 *                         creates the account with that password unless it exists; exits 3
 *                         when it exists with another password (./stbfarm up's admin)
 *   stbfarm-admin [--redis ADDR] node register ID [--address URL] [--licence-expiry YYYY-MM-DD]
 *                                                  [--alive]
 *   stbfarm-admin [--redis ADDR] node maintenance ID on|off [--message TEXT]
 *                         a node in maintenance takes no new jobs or reservations
 *   stbfarm-admin [--redis ADDR] node call ID METHOD [JSON]
 *                         calls an agent.* method of the node's agent (proto/node_agent.proto)
 *                         with the JSON request; prints the JSON reply, or writes an image reply
 *                         to standard output
 *   stbfarm-admin [--broker URL] result push --json FILE [--artifacts DIR] [--upload-id ID]
 *                                [--chunk-bytes N] [--stop-after CHUNKS] [--finish-only]
 *   stbfarm-admin [--redis ADDR] result load FILE.jsonl
 * The launcher (./stbfarm token ...) calls it. */
#include "admin_results.h"
#include "hooks_store.h"
#include "sf_account.h"
#include "sf_caller.h"
#include "sf_crypto.h"
#include "node_agent.pb-c.h"
#include "sf_node_client.h"
#include "nodes_store.h"
#include "sf_link.h"
#include "sf_log.h"
#include "sf_pbjson.h"
#include "sf_redis.h"
#include "sf_token.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The agent methods an operator may call, with their request and reply types. */
static const struct {
    const char *name;
    const ProtobufCMessageDescriptor *req, *reply;
} AGENT_METHODS[] = {
    {"agent.status", NULL, &stbfarm__agent_status__descriptor},
    {"agent.live_status", NULL, &stbfarm__agent_live_status__descriptor},
    {"agent.screenshot", &stbfarm__agent_image_request__descriptor, NULL},
    {"agent.thumbnail", &stbfarm__agent_image_request__descriptor, NULL},
    {"agent.press", &stbfarm__agent_press_request__descriptor,
     &stbfarm__agent_press_reply__descriptor},
    {"agent.video_start", &stbfarm__agent_video_start_request__descriptor, NULL},
    {"agent.video_stop", NULL, &stbfarm__agent_video_stop_reply__descriptor},
};

/* node call ID METHOD [JSON]: through sf_node_client, as the services reach agents. */
static int node_call_cmd(sf_redis *r, const char *id, const char *method, const char *json,
                         sf_error *err)
{
    size_t i = 0, n = sizeof(AGENT_METHODS) / sizeof(AGENT_METHODS[0]);
    while (i < n && strcmp(AGENT_METHODS[i].name, method))
        i++;
    if (i == n)
        return sf_fail(err, SF_EINVAL, "unknown agent method '%s'", method);
    ProtobufCMessage *req = NULL;
    cJSON *obj = NULL;
    sf_node_clients *nc = NULL;
    sf_rpc_result res = {0};
    int rc = 0;
    if (AGENT_METHODS[i].req) {
        if (!(rc = sf_json_parse_object(json ? json : "{}", strlen(json ? json : "{}"), &obj, err)))
            rc = sf_pb_from_json(AGENT_METHODS[i].req, obj, &req, err);
    }
    if (!rc && !(rc = sf_node_clients_new(&nc, err)))
        rc = nodes_call_id(nc, r, id, method, req, AGENT_METHODS[i].reply, 30000, &res, err);
    if (!rc && res.content_type) {
        fwrite(res.body, 1, res.body_len, stdout);
    } else if (!rc && res.msg) {
        cJSON *out = sf_pb_to_json(res.msg);
        char *text = out ? cJSON_PrintUnformatted(out) : NULL;
        printf("%s\n", text ? text : "{}");
        free(text);
        cJSON_Delete(out);
    }
    sf_rpc_result_free(&res);
    sf_node_clients_free(nc);
    if (req)
        protobuf_c_message_free_unpacked(req, NULL);
    cJSON_Delete(obj);
    return rc;
}

/* The password in the first line of path (without its line end). */
static int read_password_file(const char *path, char *out, size_t len, sf_error *err)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return sf_fail(err, SF_EINVAL, "cannot read the password file %s", path);
    if (!fgets(out, (int)len, f))
        out[0] = '\0';
    fclose(f);
    out[strcspn(out, "\r\n")] = '\0';
    return sf_password_check(out, err);
}

/* The password from --password-file, or a new one that is printed. */
static int password_of(const char *file, char *out, size_t len, int *generated, sf_error *err)
{
    *generated = !file;
    if (file)
        return read_password_file(file, out, len, err);
    if (sf_password_generate(out))
        return sf_fail(err, SF_EINTERNAL, "no randomness available");
    return 0;
}

/* user add|passwd|role|remove|list|ensure ... */
static int user_cmd(sf_redis *r, const char **pos, size_t npos, const char *role_text,
                    const char *file, sf_error *err)
{
    const char *action = pos[1], *name = npos > 2 ? pos[2] : NULL;
    char password[SF_PASSWORD_MAX + 2];
    int generated = 0, rc;
    sf_role role = SF_ROLE_WRITE;
    if (role_text && sf_role_parse(role_text, &role))
        return sf_fail(err, SF_EINVAL, "unknown role '%s': use manual, read, write or admin",
                       role_text);
    if (!strcmp(action, "list") && npos == 2) {
        sf_user *users;
        size_t n;
        if ((rc = sf_user_list(r, &users, &n, err)))
            return rc;
        for (size_t i = 0; i < n; i++)
            printf("%s\t%s\t%s\n", users[i].name, sf_role_name(users[i].role), users[i].created);
        free(users);
        return 0;
    }
    if (!strcmp(action, "role") && npos == 4) {
        if (sf_role_parse(pos[3], &role))
            return sf_fail(err, SF_EINVAL, "unknown role '%s': use manual, read, write or admin",
                           pos[3]);
        return sf_user_set_role(r, name, role, err);
    }
    if (npos != 3)
        return SF_EMETHOD;
    if (!strcmp(action, "remove")) /* and what they set up: their webhooks */
        return (rc = sf_user_remove(r, name, err)) ? rc : hooks_remove_user(r, name, err);
    if (!strcmp(action, "ensure")) {
        if (!file || !role_text)
            return SF_EMETHOD;
        if ((rc = read_password_file(file, password, sizeof(password), err)))
            return rc;
        rc = sf_user_add(r, name, role, password, err);
        if (rc != SF_ECONFLICT)
            return rc;
        sf_user u;
        rc = sf_user_authenticate(r, name, password, &u, err);
        return rc == SF_EFORBIDDEN ? 3 : rc;
    }
    if (strcmp(action, "add") && strcmp(action, "passwd"))
        return SF_EMETHOD;
    if ((rc = password_of(file, password, sizeof(password), &generated, err)))
        return rc;
    rc = !strcmp(action, "add") ? sf_user_add(r, name, role, password, err)
                                : sf_user_set_password(r, name, password, err);
    if (!rc && generated)
        printf("%s\n", password);
    return rc;
}

/* A new secret for node id: written to path (mode 600, as the agent's credential file), its
 * hash to Redis. The old secret stops working at once. */
static int node_enroll_cmd(sf_redis *r, const char *id, const char *path, sf_error *err)
{
    if (!path)
        return sf_fail(err, SF_EINVAL, "node enroll takes --credential-file FILE");
    if (!nodes_valid_id(id))
        return sf_fail(err, SF_EINVAL, "invalid node id '%.64s'", id);
    char secret[65], tmp[4096];
    sf_random_hex(32, secret);
    if (snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp))
        return sf_fail(err, SF_EINVAL, "--credential-file is too long");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600), rc = 0;
    if (fd < 0)
        return sf_fail(err, SF_EINVAL, "cannot write %s: %s", tmp, strerror(errno));
    FILE *f = fdopen(fd, "w");
    if (!f || fprintf(f, "node:%s:%s\n", id, secret) < 0 || fflush(f) || fsync(fd))
        rc = sf_fail(err, SF_EINTERNAL, "cannot write %s: %s", tmp, strerror(errno));
    if (f)
        fclose(f);
    else
        close(fd);
    if (!rc && !(rc = sf_caller_enroll(r, id, secret, err)) && rename(tmp, path))
        rc = sf_fail(err, SF_EINTERNAL, "cannot write %s: %s", path, strerror(errno));
    if (rc)
        unlink(tmp);
    OPENSSL_cleanse(secret, sizeof(secret));
    return rc;
}

static int usage(void)
{
    fprintf(
        stderr,
        "usage: stbfarm-admin [--redis ADDR] token create USER\n"
        "       stbfarm-admin [--redis ADDR] token revoke TOKEN\n"
        "       stbfarm-admin [--redis ADDR] user add NAME [--role ROLE] [--password-file FILE]\n"
        "       stbfarm-admin [--redis ADDR] user passwd NAME [--password-file FILE]\n"
        "       stbfarm-admin [--redis ADDR] user role NAME ROLE\n"
        "       stbfarm-admin [--redis ADDR] user remove NAME\n"
        "       stbfarm-admin [--redis ADDR] user list\n"
        "       stbfarm-admin [--redis ADDR] user ensure NAME --role ROLE --password-file FILE\n"
        "ROLE is manual (manual control only), read, write (the default) or admin.\n"
        "       stbfarm-admin [--redis ADDR] node register ID [--address URL]\n"
        "                     [--licence-expiry YYYY-MM-DD] [--alive]\n"
        "       stbfarm-admin [--redis ADDR] node maintenance ID on|off [--message TEXT]\n"
        "       stbfarm-admin [--redis ADDR] node call ID METHOD [JSON]\n"
        "       stbfarm-admin [--redis ADDR] node enroll ID --credential-file FILE\n"
        "       stbfarm-admin [--redis ADDR] node revoke ID\n"
        "       stbfarm-admin [--broker URL] result push --json FILE [--artifacts DIR]\n"
        "                     [--upload-id ID] [--chunk-bytes N] [--stop-after CHUNKS]\n"
        "                     [--finish-only]\n"
        "       stbfarm-admin [--redis ADDR] result load FILE.jsonl\n"
        "ADDR defaults to $STBF_REDIS, then tcp://127.0.0.1:6379; URL to $STBF_BROKER, then\n"
        "tcp://127.0.0.1:7100. Links over TLS take --tls-dir DIR ($STBF_TLS_DIR), plain TCP\n"
        "beyond loopback --insecure; a Redis ACL user --redis-user USER --redis-password-file "
        "FILE\n"
        "($STBF_REDIS_USER, $STBF_REDIS_PASSWORD_FILE) (docs/operations.md).\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *addr = getenv("STBF_REDIS"), *broker = getenv("STBF_BROKER");
    const char *pos[5] = {0};
    const char *json = NULL, *artifacts = NULL, *chunk = "1048576", *stop_after = "-1";
    size_t npos = 0;
    nodes_info info = {0};
    admin_push_opts push = {0};
    int alive = 0;
    const char *role = NULL, *password_file = NULL, *message = NULL, *credential_file = NULL;
    sf_link_config link = {getenv("STBF_TLS_DIR"), 0};
    const char *redis_user = getenv("STBF_REDIS_USER");
    const char *redis_password_file = getenv("STBF_REDIS_PASSWORD_FILE");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **dest = NULL;
        if (!strcmp(a, "--redis"))
            dest = &addr;
        else if (!strcmp(a, "--address"))
            dest = &info.address;
        else if (!strcmp(a, "--licence-expiry"))
            dest = &info.licence_expiry;
        else if (!strcmp(a, "--broker"))
            dest = &broker;
        else if (!strcmp(a, "--role"))
            dest = &role;
        else if (!strcmp(a, "--password-file"))
            dest = &password_file;
        else if (!strcmp(a, "--credential-file"))
            dest = &credential_file;
        else if (!strcmp(a, "--message"))
            dest = &message;
        else if (!strcmp(a, "--json"))
            dest = &json;
        else if (!strcmp(a, "--artifacts"))
            dest = &artifacts;
        else if (!strcmp(a, "--upload-id"))
            dest = &push.upload_id;
        else if (!strcmp(a, "--chunk-bytes"))
            dest = &chunk;
        else if (!strcmp(a, "--stop-after"))
            dest = &stop_after;
        else if (!strcmp(a, "--finish-only"))
            push.finish_only = 1;
        else if (!strcmp(a, "--alive"))
            alive = 1;
        else if (!strcmp(a, "--redis-user"))
            dest = &redis_user;
        else if (!strcmp(a, "--redis-password-file"))
            dest = &redis_password_file;
        else if (!strcmp(a, "--tls-dir"))
            dest = &link.tls_dir;
        else if (!strcmp(a, "--insecure"))
            link.insecure = 1;
        else if (!strncmp(a, "--", 2) || npos == 5)
            return usage();
        else
            pos[npos++] = a;
        if (dest) {
            if (++i == argc)
                return usage();
            *dest = argv[i];
        }
    }
    if (!addr)
        addr = "tcp://127.0.0.1:6379";
    if (!broker)
        broker = "tcp://127.0.0.1:7100";
    sf_log_init("stbfarm-admin", SF_LOG_WARN);
    sf_error err = SF_ERROR_INIT;
    if (sf_link_setup(&link, &err) || /* result push and node call open links */
        sf_redis_auth_setup(redis_user, redis_password_file, &err)) {
        fprintf(stderr, "stbfarm-admin: %s\n", err.msg);
        return 2;
    }

    if (npos == 2 && !strcmp(pos[0], "result") && !strcmp(pos[1], "push")) {
        char *end1, *end2;
        push.chunk_bytes = strtol(chunk, &end1, 10);
        push.stop_after_chunks = strtol(stop_after, &end2, 10);
        if (!json || *end1 || *end2 || push.chunk_bytes < 1 || push.chunk_bytes > (8 << 20))
            return usage();
        if (admin_result_push(broker, json, artifacts, &push, &err)) {
            fprintf(stderr, "stbfarm-admin: %s\n", err.msg);
            return 1;
        }
        return 0;
    }
    int is_load = npos == 3 && !strcmp(pos[0], "result") && !strcmp(pos[1], "load");

    int is_token = npos == 3 && !strcmp(pos[0], "token");
    int is_node = npos == 3 && !strcmp(pos[0], "node") && !strcmp(pos[1], "register");
    int is_call = (npos == 4 || npos == 5) && !strcmp(pos[0], "node") && !strcmp(pos[1], "call");
    int is_user = npos >= 2 && !strcmp(pos[0], "user");
    int is_enroll = npos == 3 && !strcmp(pos[0], "node") && !strcmp(pos[1], "enroll");
    int is_revoke = npos == 3 && !strcmp(pos[0], "node") && !strcmp(pos[1], "revoke");
    int is_maint = npos == 4 && !strcmp(pos[0], "node") && !strcmp(pos[1], "maintenance") &&
                   (!strcmp(pos[3], "on") || !strcmp(pos[3], "off"));
    if (!(is_token && (!strcmp(pos[1], "create") || !strcmp(pos[1], "revoke"))) && !is_node &&
        !is_call && !is_load && !is_user && !is_maint && !is_enroll && !is_revoke)
        return usage();
    if (message && !(is_maint && !strcmp(pos[3], "on")))
        return usage();

    sf_redis *r;
    if (sf_redis_open(&r, addr, &err)) {
        fprintf(stderr, "stbfarm-admin: %s\n", err.msg);
        return 2;
    }
    int rc;
    if (is_user) {
        rc = user_cmd(r, pos, npos, role, password_file, &err);
        if (rc == SF_EMETHOD) {
            sf_redis_free(r);
            return usage();
        }
        if (rc == 3) {
            sf_redis_free(r);
            fprintf(stderr, "stbfarm-admin: the user %s exists with another password\n", pos[2]);
            return 3;
        }
    } else if (is_load) {
        rc = admin_result_load(r, pos[2], &err);
    } else if (is_call) {
        rc = node_call_cmd(r, pos[2], pos[3], pos[4], &err);
    } else if (is_node) {
        rc = nodes_register(r, pos[2], &info, alive, &err);
    } else if (is_enroll) {
        rc = node_enroll_cmd(r, pos[2], credential_file, &err);
    } else if (is_revoke) {
        rc = sf_caller_revoke(r, pos[2], &err);
    } else if (is_maint) {
        const char *text = !strcmp(pos[3], "on") ? (message ? message : "") : NULL;
        rc = nodes_set_maintenance(r, pos[2], text, "operator", NULL, NULL, &err);
    } else if (!strcmp(pos[1], "create")) {
        char token[SF_TOKEN_LEN + 1];
        rc = sf_token_create(r, pos[2], NULL, token, NULL, &err);
        if (!rc)
            printf("%s\n", token);
    } else {
        rc = sf_token_revoke(r, pos[2], &err);
    }
    sf_redis_free(r);
    if (rc) {
        fprintf(stderr, "stbfarm-admin: %s\n", err.msg);
        return 1;
    }
    return 0;
}
