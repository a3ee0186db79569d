#include "sf_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int sf_fail(sf_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

int sf_wrap(sf_error *err, int code, const char *fmt, ...)
{
    if (err) {
        char inner[SF_ERROR_MSG_MAX];
        memcpy(inner, err->msg, sizeof(inner));
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < sizeof(err->msg))
            snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, "%s", inner);
        err->code = code;
    }
    return code;
}

int sf_http_status(int code)
{
    if (code == SF_OK)
        return 200;
    if (code <= -400 && code >= -599)
        return -code;
    return 500;
}

const char *sf_http_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 206:
        return "Partial Content";
    case 302:
        return "Found";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 413:
        return "Payload Too Large";
    case 416:
        return "Range Not Satisfiable";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 507:
        return "Insufficient Storage";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Unknown";
    }
}
