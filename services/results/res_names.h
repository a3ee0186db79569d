/* res_names.h - what the results service accepts as ids, artifact paths and records, and the
 * Content-Type of an artifact. Pure code: the ingest handlers, the download handlers and the
 * admin tool all check with these, and the unit tests and a fuzzer exercise them alone.
 *
 * Ids and paths become paths in the artifact store (<store>/<node>/<hex>/<n>/<time>/<path>), so
 * they are checked strictly here, once, for every way in. */
#ifndef RES_NAMES_H
#define RES_NAMES_H

#include "results.pb-c.h"
#include "sf_err.h"

#include <stddef.h>
#include <stdint.h>

#define RES_ID_MAX        256   /* a result id, NUL included */
#define RES_PATH_MAX      1024  /* an artifact path, in bytes */
#define RES_PATH_DEPTH    32    /* directories in an artifact path */
#define RES_MAX_ARTIFACTS 10000 /* files in one result */
#define RES_MAX_TAGS      64
#define RES_REASON_MAX    (64 << 10) /* failure_reason: longer is cut short */
#define RES_TRACEBACK_MAX (1 << 20)  /* traceback: longer is cut short */

/* 8 to 64 of [A-Za-z0-9_-]. */
int res_upload_id_valid(const char *id);

/* "/a/b/c" (a job_uid: 3 segments) or "/a/b/c/d" (a result_id: 4): each segment 1 to 64 of
 * [A-Za-z0-9._-] starting with a letter or digit. */
int res_job_uid_valid(const char *uid);
int res_result_id_valid(const char *id);

/* The id a result starting at start_us gets unless another run of its job started in the same
 * second: job_uid + "/" + the UTC start as YYYY-MM-DD_HH.MM.SS. out holds RES_ID_MAX. */
void res_result_id_base(const char *job_uid, int64_t start_us, char *out, size_t len);

/* 1 when path can name a file inside a result: relative, segments separated by single '/',
 * none empty, "." or "..", no control characters, valid UTF-8, at most RES_PATH_MAX bytes and
 * RES_PATH_DEPTH segments. */
int res_artifact_path_valid(const char *path);

/* The Content-Type to serve an artifact with, from its extension; application/octet-stream
 * for what is not known. */
const char *res_content_type(const char *path);

/* Check what begin gives: SF_EINVAL naming the first bad field. */
int res_meta_check(const Stbfarm__ResultMeta *meta, sf_error *err);

/* Check what finish gives against the upload's meta: SF_EINVAL naming the first bad field
 * (outcome, end time, manifest entries and their uniqueness). */
int res_finish_check(const Stbfarm__ResultMeta *meta, const Stbfarm__ResultsFinishRequest *fin,
                     sf_error *err);

#endif
