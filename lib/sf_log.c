#include "sf_log.h"

#include "sf_err.h"
#include "sf_time.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const char *log_program = "stbfarm";
static sf_log_level log_level = SF_LOG_INFO;

void sf_log_init(const char *program, sf_log_level level)
{
    log_program = program;
    log_level = level;
}

int sf_log_level_parse(const char *text, sf_log_level *out)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(text, names[i]) == 0) {
            *out = (sf_log_level)i;
            return 0;
        }
    }
    return SF_EINVAL;
}

int sf_log_enabled(sf_log_level level)
{
    return level >= log_level;
}

void sf_log(sf_log_level level, const char *fmt, ...)
{
    static const char *const tags[] = {"DEBUG", "INFO", "WARN", "ERROR"};
    if (level < log_level)
        return;
    char line[2048];
    size_t n = sf_time_format(sf_now_us(), line, sizeof(line), SF_TIME_ZULU);
    n += (size_t)snprintf(line + n, sizeof(line) - n, " %s[%d] %s ", log_program, (int)getpid(),
                          tags[level]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    n += (size_t)m;
    if (n > sizeof(line) - 2)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    ssize_t ignored = write(STDERR_FILENO, line, n);
    (void)ignored;
}
