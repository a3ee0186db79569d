/* The reservation store's contract with the nodes and jobs services, against a real
 * redis-server (started here on a private unix socket, stopped at the end): node status, the
 * "may this user use this node" check, and RESV_LUA_MAY_USE inside another service's script. */
#include "nodes_store.h"
#include "resv_store.h"
#include "sf_time.h"
#include "test.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NODE1 "stb-tester-000000000001"
#define NODE2 "stb-tester-000000000002"

static sf_redis *r;
static pid_t redis_pid;
static char dir[] = "/tmp/sfresvXXXXXX";

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int start_redis(void)
{
    if (!mkdtemp(dir))
        return -1;
    char conf[256], sock[256], addr[300];
    snprintf(conf, sizeof(conf), "%s/redis.conf", dir);
    snprintf(sock, sizeof(sock), "%s/redis.sock", dir);
    FILE *f = fopen(conf, "w");
    if (!f)
        return -1;
    fprintf(f, "port 0\nunixsocket %s\ndir %s\nsave \"\"\nappendonly no\n", sock, dir);
    fclose(f);
    redis_pid = fork();
    if (redis_pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
        freopen("/dev/null", "w", stdout);
        execlp("redis-server", "redis-server", conf, (char *)NULL);
        _exit(127);
    }
    snprintf(addr, sizeof(addr), "unix:%s", sock);
    sf_error err = SF_ERROR_INIT;
    if (redis_pid < 0 || sf_redis_open(&r, addr, &err))
        return -1;
    for (int i = 0; i < 200; i++) {
        redisReply *reply;
        if (sf_redis_cmd(r, &reply, &err, "PING") == 0) {
            freeReplyObject(reply);
            return 0;
        }
        sleep_ms(25);
    }
    return -1;
}

static void stop_redis(void)
{
    sf_redis_free(r);
    if (redis_pid > 0) {
        kill(redis_pid, SIGTERM);
        waitpid(redis_pid, NULL, 0);
    }
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

static void flush(void)
{
    redisReply *reply;
    sf_error err = SF_ERROR_INIT;
    CHECK(sf_redis_cmd(r, &reply, &err, "FLUSHALL") == 0);
    freeReplyObject(reply);
    nodes_info info = {0};
    CHECK(nodes_register(r, NODE1, &info, 1, &err) == 0);
    CHECK(nodes_register(r, NODE2, &info, 1, &err) == 0);
}

/* alice reserves nodes (n of them from NODE1, NODE2) with message; returns the first id. */
static int64_t reserve(const char *user, size_t n, const char *message, int64_t secs,
                       const char *request_id)
{
    char *ids[] = {NODE1, NODE2};
    resv_new req = {user, ids, n, message, "<p>html</p>", secs, request_id};
    resv_views vs;
    sf_error err = SF_ERROR_INIT;
    int rc = resv_create(r, &req, &vs, &err);
    CHECK(rc == 0);
    if (rc) {
        fprintf(stderr, "resv_create: %s\n", err.msg);
        return 0;
    }
    CHECK(vs.n == n);
    int64_t id = vs.views[0].msg.reservation_id;
    resv_views_clear(&vs);
    return id;
}

/* Node status as the nodes service builds it, for caller. */
static void status(const char *caller, int online, Stbfarm__Node *n, resv_view *v)
{
    stbfarm__node__init(n);
    n->node_id = (char *)NODE1;
    n->available = online;
    if (!online)
        n->not_available_reason = (char *)"Node " NODE1 " is offline";
    sf_error err = SF_ERROR_INIT;
    const char *args[] = {NODE1};
    redisReply *reply = NULL;
    CHECK(sf_redis_eval(r, RESV_LUA_NODE_VIEW "return resv_node_view(ARGV[1])\n", &reply, &err, 0,
                        1, args, NULL) == 0);
    CHECK(resv_node_status_of(reply, caller, n, v, &err) == 0);
    v->owned = reply; /* the view keeps the reply its strings point into */
}

static void test_free_node_shows_no_reservation_and_stays_available(void)
{
    flush();
    Stbfarm__Node n;
    resv_view v;
    status("bob", 1, &n, &v);
    CHECK(n.reservation == NULL);
    CHECK(n.available);
    CHECK(n.not_available_reason == NULL);
    resv_view_clear(&v);
}

static void test_reserved_node_shows_the_reservation_for_each_caller(void)
{
    flush();
    int64_t id = reserve("alice", 1, "soak", 3600, "rq1");
    Stbfarm__Node n;
    resv_view v;
    status("bob", 1, &n, &v);
    CHECK(n.reservation && n.reservation->reservation_id == id);
    CHECK(n.reservation && !n.reservation->reserved_by_you);
    CHECK(!n.available);
    CHECK_STR(n.not_available_reason, "Node " NODE1 " reserved by @alice");
    resv_view_clear(&v);
    status("alice", 1, &n, &v);
    CHECK(n.reservation && n.reservation->reserved_by_you);
    CHECK(!n.available);
    resv_view_clear(&v);
}

static void test_offline_wins_over_reserved_as_the_reason(void)
{
    flush();
    reserve("alice", 1, "soak", 0, "rq2");
    Stbfarm__Node n;
    resv_view v;
    status("bob", 0, &n, &v);
    CHECK(n.reservation != NULL);
    CHECK_STR(n.not_available_reason, "Node " NODE1 " is offline");
    resv_view_clear(&v);
}

static void test_check_use_refuses_other_users_with_the_reason(void)
{
    flush();
    sf_error err = SF_ERROR_INIT;
    CHECK(resv_check_use(r, NODE1, "bob", &err) == 0);
    reserve("alice", 1, "Overnight *soak*\n\nJIRA-1", 3600, "rq3");
    CHECK(resv_check_use(r, NODE1, "bob", &err) == SF_ECONFLICT);
    CHECK_STR(err.msg, "Node " NODE1 " is reserved by @alice: Overnight *soak* JIRA-1");
    CHECK(resv_check_use(r, NODE1, "alice", &err) == 0);
    CHECK(resv_check_use(r, NODE2, "bob", &err) == 0);
}

static void test_check_use_quotes_a_long_message_cut_at_a_character(void)
{
    flush();
    char msg[600] = "x";
    for (int i = 0; i < 200; i++)
        strcat(msg, "\xc3\xa9"); /* two bytes each: byte 200 falls inside one */
    reserve("alice", 1, msg, 3600, "rq4");
    sf_error err = SF_ERROR_INIT;
    CHECK(resv_check_use(r, NODE1, "bob", &err) == SF_ECONFLICT);
    const char *quoted = strstr(err.msg, ": ") + 2;
    CHECK(strlen(quoted) <= 203);
    CHECK(!strcmp(quoted + strlen(quoted) - 5, "\xc3\xa9..."));
}

/* What the jobs service does: refuse, and take nothing, inside one script. */
static const char JOB_SCRIPT[] =
    RESV_LUA_MAY_USE "local why = resv_refusal(ARGV[1], ARGV[2])\n"
                     "if why then return redis.error_reply('409 ' .. why) end\n"
                     "redis.call('SET', KEYS[1], ARGV[2])\n"
                     "return 1\n";

static int start_job(const char *user, sf_error *err)
{
    const char *args[] = {"sf:node:" NODE1 ":job", NODE1, user};
    redisReply *reply;
    int rc = sf_redis_eval(r, JOB_SCRIPT, &reply, err, 1, 3, args, NULL);
    if (!rc)
        freeReplyObject(reply);
    return rc;
}

static void test_lua_check_lets_another_script_refuse_atomically(void)
{
    flush();
    reserve("alice", 1, "soak", 3600, "rq5");
    sf_error err = SF_ERROR_INIT;
    CHECK(start_job("bob", &err) == SF_ECONFLICT);
    CHECK_STR(err.msg, "Node " NODE1 " is reserved by @alice: soak");
    redisReply *reply;
    CHECK(sf_redis_cmd(r, &reply, &err, "EXISTS sf:node:" NODE1 ":job") == 0);
    CHECK(reply->integer == 0);
    freeReplyObject(reply);
    CHECK(start_job("alice", &err) == 0);
}

static void test_a_busy_node_cannot_be_reserved(void)
{
    flush();
    redisReply *reply;
    sf_error err = SF_ERROR_INIT;
    CHECK(sf_redis_cmd(r, &reply, &err, "SET sf:node:" NODE2 ":job /" NODE2 "/0000/1") == 0);
    freeReplyObject(reply);
    char *ids[] = {NODE1, NODE2};
    resv_new req = {"alice", ids, 2, "soak", "<p>soak</p>", 0, "rq6"};
    resv_views vs;
    CHECK(resv_create(r, &req, &vs, &err) == SF_ECONFLICT);
    CHECK_STR(err.msg, "Node " NODE2 " is busy running a job");
    CHECK(resv_check_use(r, NODE1, "bob", &err) == 0); /* nothing was taken */
}

static void test_the_same_request_twice_reserves_once(void)
{
    flush();
    int64_t a = reserve("alice", 2, "soak", 60, "same");
    int64_t b = reserve("alice", 2, "soak", 60, "same");
    CHECK(a == b);
}

static void test_expiry_ends_the_reservation_and_the_sweep_records_it(void)
{
    flush();
    int64_t id = reserve("alice", 1, "short", 1, "rq7");
    sf_error err = SF_ERROR_INIT;
    resv_view v;
    CHECK(resv_get(r, id, "alice", &v, &err) == 0);
    int64_t expires_us = 0;
    CHECK(sf_time_parse(v.msg.expires, &expires_us) == 0);
    resv_view_clear(&v);
    while (sf_now_us() <= expires_us + 2000)
        sleep_ms(10);
    /* ended from its expiry on, before any sweep */
    CHECK(resv_check_use(r, NODE1, "bob", &err) == 0);
    CHECK(resv_get(r, id, "alice", &v, &err) == 0);
    CHECK_STR(v.msg.end_reason, "expired");
    resv_view_clear(&v);
    int64_t now, next;
    CHECK(resv_sweep(r, &now, &next, &err) == 0);
    CHECK(next == -1);
    CHECK(resv_get(r, id, "alice", &v, &err) == 0);
    CHECK_STR(v.msg.end_reason, "expired");
    CHECK_STR(v.msg.end_time, v.msg.expires);
    resv_view_clear(&v);
    redisReply *reply;
    CHECK(sf_redis_cmd(r, &reply, &err, "HGET sf:resv:%lld end_reason", (long long)id) == 0);
    CHECK_STR(reply->str, "expired");
    freeReplyObject(reply);
}

int main(void)
{
    if (start_redis()) {
        fprintf(stderr, "cannot start redis-server\n");
        stop_redis();
        return 1;
    }
    RUN(test_free_node_shows_no_reservation_and_stays_available);
    RUN(test_reserved_node_shows_the_reservation_for_each_caller);
    RUN(test_offline_wins_over_reserved_as_the_reason);
    RUN(test_check_use_refuses_other_users_with_the_reason);
    RUN(test_check_use_quotes_a_long_message_cut_at_a_character);
    RUN(test_lua_check_lets_another_script_refuse_atomically);
    RUN(test_a_busy_node_cannot_be_reserved);
    RUN(test_the_same_request_twice_reserves_once);
    RUN(test_expiry_ends_the_reservation_and_the_sweep_records_it);
    stop_redis();
    return TEST_EXIT();
}
