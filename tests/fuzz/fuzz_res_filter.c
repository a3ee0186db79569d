/* The results search language and sort parameter: both come straight from the query string. */
#include "fuzz.h"
#include "res_filter.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void one_input(const uint8_t *data, size_t size)
{
    static sf_tz *denver;
    if (!denver)
        sf_tz_load(NULL, "America/Denver", &denver, NULL);
    char *text = malloc(size + 1);
    if (!text)
        return;
    memcpy(text, data, size);
    text[size] = '\0';
    res_filter *f = NULL;
    if (res_filter_parse(text, &f, NULL) == 0) {
        res_filter_resolve(f, sf_tz_utc());
        if (denver)
            res_filter_resolve(f, denver);
        for (size_t i = 0; i < f->n; i++) {
            if (f->terms[i].value)
                res_glob_match(f->terms[i].value, text);
        }
        res_filter_free(f);
    }
    res_sort s;
    res_sort_parse(text, &s, NULL);
    free(text);
}

FUZZ_TARGET(FUZZ_SERVICE_STACK, one_input)
