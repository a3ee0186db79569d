/* sf_run.h - the name of one test run that the node agent and the jobs service both derive.
 *
 * A run is the seq'th test the node ran for a job (seq from 1). Its upload to the results
 * service (proto/results.proto) is keyed by an upload id made from the node, the job and seq
 * alone, so whichever side records the run first (the node with its artifacts, or the jobs
 * service's reaper with an error for a run its node lost) makes the upload the other one finds:
 * a run is recorded once. */
#ifndef SF_RUN_H
#define SF_RUN_H

#include <stddef.h>
#include <stdint.h>

#define SF_UPLOAD_ID_MAX 64 /* an upload id's length, without its NUL */

/* The upload id of run seq of job_uid ("/<node>/<hex>/<n>"): "<node>-<hex>-<n>-<seq>", as in
 * stb-tester-abcdef123456-0a23-972-17, when that is a valid upload id (8 to 64 of
 * [A-Za-z0-9_-]); else (a node id with '.', or too long) "run-" and 40 hex digits of the
 * SHA-256 of job_uid, a newline and seq. out holds SF_UPLOAD_ID_MAX + 1 bytes. */
void sf_run_upload_id(const char *job_uid, int64_t seq, char *out);

#endif
