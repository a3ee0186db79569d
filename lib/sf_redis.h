/* sf_redis.h - one thread's connection to Redis, reconnecting by itself.
 *
 * A connection belongs to one thread at a time. It connects on first use; when Redis goes away
 * the failing command returns SF_EUNAVAIL and the next one connects again (a command that finds
 * the connection already broken is retried once on a fresh one). Commands time out after a few
 * seconds rather than hang a worker.
 *
 * Lua scripts signal API errors by returning redis.error_reply("409 Node is busy"): an error
 * reply that starts with a 4xx or 5xx status and a space becomes that code (-409) and message. */
#ifndef SF_REDIS_H
#define SF_REDIS_H

#include "sf_err.h"

#include <hiredis/hiredis.h>
#include <stdint.h>

typedef struct sf_redis sf_redis;

/* Who this process is to Redis from now on: the ACL user user, with the password in
 * password_file (its first line; the file must not be readable by group or others). Every
 * connection this process opens authenticates with it (AUTH). user NULL: the default user, no
 * AUTH. Call once at start, before any connection opens. Returns 0 or SF_EINVAL with why. */
int sf_redis_auth_setup(const char *user, const char *password_file, sf_error *err);

/* Parse addr ("unix:/path", "tcp://host:port", "host:port", or
 * "sentinel://host:port[,host:port...]/name": the master called name, found through those
 * Redis Sentinels and found again after a failover) and make a connection object; does not
 * connect yet. Returns 0 or SF_EINVAL for a bad address. Free with sf_redis_free. */
int sf_redis_open(sf_redis **out, const char *addr, sf_error *err);
void sf_redis_free(sf_redis *r);

/* After a write that must survive the loss of the master (a job's creation, a reservation, a
 * result's commit, a token, an account): when this connection's Redis is found through
 * sentinels ("sentinel://host:port,.../name"), wait until a replica has every write made on it
 * so far (WAIT 1, at most 2 s). Call it right after the write, with no command between.
 * Returns 0 (at once, for a single Redis), or SF_EUNAVAIL when no replica confirmed the write:
 * then it must not be acknowledged (it may still take effect). */
int sf_redis_durable(sf_redis *r, sf_error *err);

/* Run a command (hiredis format). On success *out is the reply, owned by the caller
 * (freeReplyObject); error replies are returned as codes, never in *out. */
int sf_redis_cmd(sf_redis *r, redisReply **out, sf_error *err, const char *fmt, ...);
int sf_redis_cmdargv(sf_redis *r, redisReply **out, sf_error *err, int argc, const char **argv,
                     const size_t *lens);

/* Run a Lua script by EVALSHA, loading it on NOSCRIPT. args holds nkeys keys then the other
 * arguments; lens may be NULL for NUL-terminated args. */
int sf_redis_eval(sf_redis *r, const char *script, redisReply **out, sf_error *err, int nkeys,
                  int nargs, const char **args, const size_t *lens);

/* The strings of an array reply (SMEMBERS, ZRANGE, LRANGE...), copied: *out holds *n of them
 * (free with sf_strings_free); elements that are not strings are left out. The reply is freed
 * in every case. */
int sf_reply_strings(redisReply *reply, char ***out, size_t *n, sf_error *err);
void sf_strings_free(char **v, size_t n);

/* Helpers for the replies scripts and commands give. */
const char *sf_reply_str(const redisReply *r); /* string/status reply text, or NULL */
long long sf_reply_int(const redisReply *r, long long def);

/* The address this connection was opened with. */
const char *sf_redis_addr(const sf_redis *r);

/* A blocking connection for SUBSCRIBE (no command timeout). Returns NULL with err set. */
redisContext *sf_redis_connect_raw(const char *addr, int with_timeout, sf_error *err);

#endif
