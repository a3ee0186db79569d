/* fuzz.h - what every fuzz target shares: each input runs on a thread with the stack the real
 * process gives the code under test, so that recursion a worker's stack cannot hold crashes the
 * fuzzer as it would crash the process. A target defines
 *     static void one_input(const uint8_t *data, size_t size) { ... }
 * and then FUZZ_TARGET(FUZZ_GATEWAY_STACK, one_input). */
#ifndef SF_FUZZ_H
#define SF_FUZZ_H

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

/* A civetweb worker's stack: Debian's libcivetweb is built with USE_STACK_SIZE=102400. */
#define FUZZ_GATEWAY_STACK ((size_t)102400)
/* The threads of services and node agents have pthread's default: RLIMIT_STACK, 8 MiB. */
#define FUZZ_SERVICE_STACK ((size_t)8 << 20)

typedef struct fuzz_call {
    void (*fn)(const uint8_t *, size_t);
    const uint8_t *data;
    size_t size;
} fuzz_call;

static void *fuzz_thread(void *arg)
{
    fuzz_call *c = arg;
    c->fn(c->data, c->size);
    return NULL;
}

static inline void fuzz_on_stack(size_t stack, void (*fn)(const uint8_t *, size_t),
                                 const uint8_t *data, size_t size)
{
    fuzz_call c = {fn, data, size};
    pthread_attr_t a;
    pthread_t t;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, stack);
    if (pthread_create(&t, &a, fuzz_thread, &c) != 0)
        abort(); /* a fuzzer that cannot run its input must not pass */
    pthread_join(t, NULL);
    pthread_attr_destroy(&a);
}

#define FUZZ_TARGET(stack, fn)                                                                     \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)                                   \
    {                                                                                              \
        fuzz_on_stack(stack, fn, data, size);                                                      \
        return 0;                                                                                  \
    }

#endif
