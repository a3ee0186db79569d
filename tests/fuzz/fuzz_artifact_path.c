/* Artifact paths and result ids: they arrive in URLs (decoded by the gateway) and in uploads
 * from nodes, and become paths in the artifact store. */
#include "fuzz.h"
#include "res_names.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void one_input(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return;
    memcpy(text, data, size);
    text[size] = '\0';
    size_t n = strlen(text);
    if (res_artifact_path_valid(text) &&
        (text[0] == '/' || strstr(text, "//") || !strcmp(text, "..") || !strncmp(text, "../", 3) ||
         strstr(text, "/../") || (n >= 3 && !strcmp(text + n - 3, "/.."))))
        abort(); /* a path that leaves the result was accepted */
    res_result_id_valid(text);
    res_job_uid_valid(text);
    res_upload_id_valid(text);
    res_content_type(text);
    free(text);
}

FUZZ_TARGET(FUZZ_SERVICE_STACK, one_input)
