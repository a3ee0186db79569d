/* The credential of an RPC envelope (lib/sf_caller.h): any process that reaches the broker
 * chooses its bytes. */
#include "fuzz.h"
#include "sf_caller.h"

#include <stdint.h>
#include <string.h>

static void one_input(const uint8_t *data, size_t size)
{
    char *cred = malloc(size + 1);
    if (!cred)
        abort();
    memcpy(cred, data, size);
    cred[size] = '\0';
    /* a method no node may call: the check ends before it would need Redis */
    sf_call call = {"jobs.create", "r", "", "", 0, NULL, cred, ""};
    if (sf_caller_check(&call, NULL, NULL) == 0 && call.node[0])
        abort(); /* a node never passes for a method of the farm's */
    char node[72];
    sf_caller_node_of(cred, node, sizeof(node));
    free(cred);
}

FUZZ_TARGET(FUZZ_SERVICE_STACK, one_input)
