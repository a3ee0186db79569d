/* sf_tags.h - the tags of a job or a result in each form they take, converted in one place.
 *
 * Tags are a map<string, string> field of several messages (RunTestsRequest, RunJob,
 * ResultMeta, Result), each with its own generated entry type but all laid out alike, and a
 * JSON object of strings in a job's record and in `stbfarm-admin result push`'s input. An
 * sf_tags holds entries of one map's entry type, ready to hang on a message:
 *
 *     sf_tags t;
 *     if ((rc = sf_tags_copy(&t, &stbfarm__result_meta__tags_entry__descriptor,
 *                            (ProtobufCMessage *const *)job->tags, job->n_tags, err)))
 *         return rc;
 *     meta.n_tags = t.n;
 *     meta.tags = (Stbfarm__ResultMeta__TagsEntry **)t.entries;
 *     ... use meta ...
 *     sf_tags_clear(&t);
 *
 * The entries and their strings belong to the sf_tags (one allocation): they do not point into
 * what they were made from. */
#ifndef SF_TAGS_H
#define SF_TAGS_H

#include "sf_err.h"

#include <cjson/cJSON.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

typedef struct sf_tags {
    ProtobufCMessage **entries; /* n entries of the entry type asked for */
    size_t n;
} sf_tags;

/* Entries of type entry (the entry of a map<string, string>) with the names and values of the n
 * entries src of any such map. On failure (SF_EINTERNAL: out of memory; SF_EINVAL: a descriptor
 * that is not a string map's entry) out is empty and needs no clearing. */
int sf_tags_copy(sf_tags *out, const ProtobufCMessageDescriptor *entry,
                 ProtobufCMessage *const *src, size_t n, sf_error *err);

/* Entries of type entry from obj, a JSON object of strings (NULL: no tags). SF_EINVAL "tags must
 * be an object of strings" or "tag <name> must be a string"; out is then empty, as above. */
int sf_tags_from_json(sf_tags *out, const ProtobufCMessageDescriptor *entry, const cJSON *obj,
                      sf_error *err);

/* The n entries src of a map<string, string> as the text of a JSON object; *json is the
 * caller's to free() on success and untouched on failure. */
int sf_tags_json(ProtobufCMessage *const *src, size_t n, char **json, sf_error *err);

void sf_tags_clear(sf_tags *t);

#endif
