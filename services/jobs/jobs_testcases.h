/* jobs_testcases.h - finding test cases in a test pack's Python files, without running them.
 *
 * A test case is a module-level function whose name starts with "test_": "def test_x(" at the
 * start of a line (async def too), outside any string literal. Decorated functions count;
 * methods and nested functions (indented) do not. Which files count: every *.py file of the
 * test pack except hidden ones (a path component starting with '.'; docs/api.md). */
#ifndef JOBS_TESTCASES_H
#define JOBS_TESTCASES_H

#include <stddef.h>

/* Call fn(name, arg) for each test function name in the Python source text (len bytes), in
 * source order. Returns the number found. */
size_t jobs_scan_python(const char *text, size_t len, void (*fn)(const char *name, void *arg),
                        void *arg);

/* 1 when a test pack file at path is searched for test cases. */
int jobs_testcase_file(const char *path);

#endif
