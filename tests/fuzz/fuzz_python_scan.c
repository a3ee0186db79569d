/* Test case discovery reads every Python file of a user's test pack. */
#include "fuzz.h"
#include "jobs_testcases.h"
#include "jobs_validate.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void ignore(const char *name, void *arg)
{
    (void)name;
    (void)arg;
}

static void one_input(const uint8_t *data, size_t size)
{
    jobs_scan_python((const char *)data, size, ignore, NULL);
    char *s = malloc(size + 1);
    if (!s)
        return;
    memcpy(s, data, size);
    s[size] = '\0';
    jobs_category_check(s, NULL);
    jobs_test_case_shape_ok(s);
    jobs_testcase_file(s);
    free(s);
}

FUZZ_TARGET(FUZZ_SERVICE_STACK, one_input)
