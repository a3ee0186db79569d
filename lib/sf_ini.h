/* sf_ini.h - INI files as stbt reads them (Python's configparser): "[section]" headers,
 * "key = value" or "key: value" lines, '#' and ';' comment lines, indented continuation lines,
 * keys lower-cased, values stripped. Used for .stbt.conf and a node's
 * config/test-farm/<node_id>.conf. Pure: no I/O. */
#ifndef SF_INI_H
#define SF_INI_H

#include "sf_err.h"

#include <cjson/cJSON.h>
#include <stddef.h>

/* Bounds, far beyond any real configuration: past them the text is refused. */
#define SF_INI_MAX_SECTIONS 4096
#define SF_INI_MAX_KEYS     4096 /* in one section */

/* Parse text (len bytes) into a JSON object of sections, each an object of string values:
 * {"node": {"friendly_name": "Rack 3"}}. Returns 0 with *out (cJSON_Delete), or SF_EINVAL with
 * the line number and what is wrong. A later duplicate key replaces an earlier one. */
int sf_ini_parse(const char *text, size_t len, cJSON **out, sf_error *err);

/* The string value of section.key in a parsed INI object, or NULL. */
const char *sf_ini_get(const cJSON *ini, const char *section, const char *key);

#endif
