/* jobs_validate.h - the rules run_tests applies to its parameters (spec, "Run tests"). Pure. */
#ifndef JOBS_VALIDATE_H
#define JOBS_VALIDATE_H

#include "sf_err.h"

/* The category rules: valid UTF-8, not empty, none of '/', '\n', ':', NUL, '$' or any control
 * character, not starting with '.' or '-'. Returns 0 or SF_EINVAL saying which rule. */
int jobs_category_check(const char *category, sf_error *err);

/* 1 when text is valid UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF). */
int jobs_utf8_valid(const char *text);

/* "run once" or "run forever". */
int jobs_soak_check(const char *soak, sf_error *err);

/* A test case name "path/to/file.py::function": the shape only, not whether it exists. */
int jobs_test_case_shape_ok(const char *name);

#endif
