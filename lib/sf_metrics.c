#include "sf_metrics.h"

#include "sf_err.h"
#include "sf_log.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef enum { KIND_COUNTER, KIND_GAUGE, KIND_HISTOGRAM } kind;

static const char *const KIND_NAMES[] = {"counter", "gauge", "histogram"};

const double SF_METRICS_LATENCY[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                     0.5,   1,      2.5,   5,    10,    30,   60};
const size_t SF_METRICS_N_LATENCY = sizeof(SF_METRICS_LATENCY) / sizeof(SF_METRICS_LATENCY[0]);

/* Doubles kept as their bits in a 64-bit atomic: C11 has no atomic add of a double. */
typedef _Atomic uint64_t atomic_double_bits;

enum { BUCKETS = 512 }; /* a family's hash of its series: a few per chain at the most */

struct sf_metric {
    _Atomic(sf_metric *) next;  /* the family's list, in the order made */
    _Atomic(sf_metric *) chain; /* the next in its hash bucket */
    uint64_t hash;
    char **values;
    atomic_double_bits value; /* counter, gauge; a histogram's sum */
    _Atomic uint64_t *counts; /* histogram: per bucket (not cumulative), then +Inf */
    const double *bounds;     /* histogram: the family's */
    size_t n_bounds;
    kind kind;
};

struct sf_metric_family {
    sf_metric_family *next;
    char *name, *help, *label_spec;
    kind kind;
    char **labels;
    size_t n_labels;
    double *bounds;
    size_t n_bounds;
    pthread_mutex_t lock; /* adding to the series list, which lookups read without it */
    _Atomic(sf_metric *) head;
    sf_metric *tail;
    _Atomic(sf_metric *) buckets[BUCKETS];
    size_t n_series;
};

typedef struct collector {
    void (*fn)(void *arg);
    void *arg;
} collector;

struct sf_metrics {
    pthread_mutex_t lock; /* the family list */
    sf_metric_family *head, *tail;
    pthread_mutex_t collect_lock; /* the collectors, and one rendering at a time */
    collector *collectors;
    size_t n_collectors;
};

static uint64_t bits_of(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof(b));
    return b;
}

static double double_of(uint64_t b)
{
    double v;
    memcpy(&v, &b, sizeof(v));
    return v;
}

static void atomic_add_double(atomic_double_bits *a, double v)
{
    uint64_t old = atomic_load_explicit(a, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(a, &old, bits_of(double_of(old) + v),
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
}

/* ---- registry ---- */

static sf_metric *series_new(const sf_metric_family *f, const char *const *values);
static void append_series(sf_metric_family *f, sf_metric *s);
static uint64_t hash_values(const char *const *values, size_t n);

int sf_metrics_new(sf_metrics **out)
{
    sf_metrics *m = calloc(1, sizeof(*m));
    if (!m)
        return SF_EINTERNAL;
    pthread_mutex_init(&m->lock, NULL);
    pthread_mutex_init(&m->collect_lock, NULL);
    *out = m;
    return 0;
}

static sf_metrics *process_registry;
static pthread_once_t process_once = PTHREAD_ONCE_INIT;

static void make_process_registry(void)
{
    if (sf_metrics_new(&process_registry))
        process_registry = NULL;
}

sf_metrics *sf_metrics_process(void)
{
    pthread_once(&process_once, make_process_registry);
    return process_registry;
}

static void free_strings(char **s, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        free(s[i]);
    free(s);
}

static void family_free(sf_metric_family *f)
{
    sf_metric *s = atomic_load(&f->head);
    while (s) {
        sf_metric *next = atomic_load(&s->next);
        free_strings(s->values, f->n_labels);
        free(s->counts);
        free(s);
        s = next;
    }
    free_strings(f->labels, f->n_labels);
    free(f->bounds);
    free(f->name);
    free(f->help);
    free(f->label_spec);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

void sf_metrics_free(sf_metrics *m)
{
    if (!m)
        return;
    sf_metric_family *f = m->head;
    while (f) {
        sf_metric_family *next = f->next;
        family_free(f);
        f = next;
    }
    free(m->collectors);
    pthread_mutex_destroy(&m->lock);
    pthread_mutex_destroy(&m->collect_lock);
    free(m);
}

static int valid_name(const char *s, size_t len, int is_label)
{
    if (len == 0 || (is_label && len >= 2 && s[0] == '_' && s[1] == '_'))
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        int alpha =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (!is_label && c == ':');
        if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
            return 0;
    }
    return 1;
}

/* Split "a,b" into f->labels; 0, or SF_EINVAL / SF_EINTERNAL. */
static int parse_labels(sf_metric_family *f, const char *spec)
{
    if (!spec || !*spec)
        return 0;
    size_t n = 1;
    for (const char *p = spec; *p; p++)
        n += *p == ',';
    if (!(f->labels = calloc(n, sizeof(*f->labels))))
        return SF_EINTERNAL;
    const char *p = spec;
    for (size_t i = 0; i < n; i++) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        f->n_labels = i + 1;
        if (!valid_name(p, len, 1) ||
            (f->kind == KIND_HISTOGRAM && len == 2 && !memcmp(p, "le", 2)))
            return SF_EINVAL;
        if (!(f->labels[i] = strndup(p, len)))
            return SF_EINTERNAL;
        p = end ? end + 1 : p + len;
    }
    return 0;
}

static sf_metric_family *family_new(const char *name, const char *help, const char *labels, kind k,
                                    const double *bounds, size_t n_bounds)
{
    sf_metric_family *f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    pthread_mutex_init(&f->lock, NULL);
    f->kind = k;
    f->name = strdup(name);
    f->help = strdup(help ? help : "");
    f->label_spec = strdup(labels ? labels : "");
    int rc = f->name && f->help && f->label_spec ? parse_labels(f, labels) : SF_EINTERNAL;
    if (!rc && k == KIND_HISTOGRAM) {
        f->n_bounds = n_bounds;
        if (!(f->bounds = malloc((n_bounds ? n_bounds : 1) * sizeof(*f->bounds))))
            rc = SF_EINTERNAL;
        for (size_t i = 0; !rc && i < n_bounds; i++) {
            f->bounds[i] = bounds[i];
            if (!isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1]))
                rc = SF_EINVAL;
        }
    }
    if (rc) {
        if (rc == SF_EINVAL)
            sf_error("metrics: %s: bad label names '%s' or bucket bounds", name,
                     labels ? labels : "");
        family_free(f);
        return NULL;
    }
    return f;
}

static sf_metric_family *family_register(sf_metrics *m, const char *name, const char *help,
                                         const char *labels, kind k, const double *bounds,
                                         size_t n_bounds)
{
    if (!m || !name)
        return NULL;
    if (!valid_name(name, strlen(name), 0)) {
        sf_error("metrics: '%s' is not a valid metric name", name);
        return NULL;
    }
    pthread_mutex_lock(&m->lock);
    sf_metric_family *f;
    for (f = m->head; f; f = f->next) {
        if (strcmp(f->name, name))
            continue;
        if (f->kind != k || strcmp(f->label_spec, labels ? labels : "")) {
            sf_error("metrics: %s registered twice, as a %s {%s} and a %s {%s}", name,
                     KIND_NAMES[f->kind], f->label_spec, KIND_NAMES[k], labels ? labels : "");
            f = NULL;
        }
        goto done;
    }
    if ((f = family_new(name, help, labels, k, bounds, n_bounds))) {
        /* a family without labels has its one series from the start: it shows as 0 */
        sf_metric *only = f->n_labels ? NULL : series_new(f, NULL);
        if (!f->n_labels && !only) {
            family_free(f);
            f = NULL;
            goto done;
        }
        if (only) {
            only->hash = hash_values(NULL, 0);
            append_series(f, only);
        }
        if (m->tail)
            m->tail->next = f;
        else
            m->head = f;
        m->tail = f;
    }
done:
    pthread_mutex_unlock(&m->lock);
    return f;
}

sf_metric_family *sf_metrics_counter(sf_metrics *m, const char *name, const char *help,
                                     const char *labels)
{
    return family_register(m, name, help, labels, KIND_COUNTER, NULL, 0);
}

sf_metric_family *sf_metrics_gauge(sf_metrics *m, const char *name, const char *help,
                                   const char *labels)
{
    return family_register(m, name, help, labels, KIND_GAUGE, NULL, 0);
}

sf_metric_family *sf_metrics_histogram(sf_metrics *m, const char *name, const char *help,
                                       const char *labels, const double *bounds, size_t n_bounds)
{
    if (!bounds) {
        bounds = SF_METRICS_LATENCY;
        n_bounds = SF_METRICS_N_LATENCY;
    }
    return family_register(m, name, help, labels, KIND_HISTOGRAM, bounds, n_bounds);
}

/* ---- series ---- */

static sf_metric *series_new(const sf_metric_family *f, const char *const *values)
{
    sf_metric *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->kind = f->kind;
    int ok = 1;
    if (f->n_labels && (ok = (s->values = calloc(f->n_labels, sizeof(*s->values))) != NULL)) {
        for (size_t i = 0; ok && i < f->n_labels; i++)
            ok = (s->values[i] = strdup(values[i] ? values[i] : "")) != NULL;
    }
    if (ok && f->kind == KIND_HISTOGRAM) {
        ok = (s->counts = calloc(f->n_bounds + 1, sizeof(*s->counts))) != NULL;
        s->bounds = f->bounds;
        s->n_bounds = f->n_bounds;
    }
    if (!ok) {
        free_strings(s->values, f->n_labels);
        free(s);
        return NULL;
    }
    return s;
}

static int same_values(const sf_metric *s, const char *const *values, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(s->values[i], values[i] ? values[i] : ""))
            return 0;
    }
    return 1;
}

/* FNV-1a of the label values, each ended by a NUL. */
static uint64_t hash_values(const char *const *values, size_t n)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < n; i++) {
        for (const char *p = values[i] ? values[i] : "";; p++) {
            h = (h ^ (unsigned char)*p) * 1099511628211ULL;
            if (!*p)
                break;
        }
    }
    return h;
}

static sf_metric *find_series(sf_metric_family *f, const char *const *values, uint64_t hash)
{
    for (sf_metric *s = atomic_load_explicit(&f->buckets[hash % BUCKETS], memory_order_acquire); s;
         s = atomic_load_explicit(&s->chain, memory_order_acquire)) {
        if (s->hash == hash && same_values(s, values, f->n_labels))
            return s;
    }
    return NULL;
}

/* Series are only ever appended, each fully made before it is linked (release), so a lookup
 * reads the list without the lock: only making a series takes it. */
static void append_series(sf_metric_family *f, sf_metric *s)
{
    _Atomic(sf_metric *) *bucket = &f->buckets[s->hash % BUCKETS];
    atomic_store_explicit(&s->chain, atomic_load_explicit(bucket, memory_order_relaxed),
                          memory_order_relaxed);
    atomic_store_explicit(bucket, s, memory_order_release);
    if (f->tail)
        atomic_store_explicit(&f->tail->next, s, memory_order_release);
    else
        atomic_store_explicit(&f->head, s, memory_order_release);
    f->tail = s;
    f->n_series++;
}

sf_metric *sf_metric_get(sf_metric_family *f, const char *const *values)
{
    if (!f || (f->n_labels && !values))
        return NULL;
    uint64_t hash = hash_values(values, f->n_labels);
    sf_metric *s = find_series(f, values, hash);
    if (s)
        return s;
    pthread_mutex_lock(&f->lock);
    if (!(s = find_series(f, values, hash)) && f->n_series < SF_METRICS_MAX_SERIES &&
        (s = series_new(f, values))) {
        s->hash = hash;
        append_series(f, s);
    }
    pthread_mutex_unlock(&f->lock);
    return s;
}

void sf_metric_inc(sf_metric *s)
{
    sf_metric_add(s, 1);
}

void sf_metric_add(sf_metric *s, double v)
{
    if (s && s->kind != KIND_HISTOGRAM && !(s->kind == KIND_COUNTER && !(v >= 0)))
        atomic_add_double(&s->value, v);
}

void sf_metric_set(sf_metric *s, double v)
{
    if (s && s->kind != KIND_HISTOGRAM)
        atomic_store_explicit(&s->value, bits_of(v), memory_order_relaxed);
}

void sf_metric_observe(sf_metric *s, double v)
{
    if (!s || s->kind != KIND_HISTOGRAM || isnan(v))
        return;
    size_t lo = 0, hi = s->n_bounds; /* the first bucket whose bound is >= v; n_bounds: +Inf */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->bounds[mid] >= v)
            hi = mid;
        else
            lo = mid + 1;
    }
    atomic_fetch_add_explicit(&s->counts[lo], 1, memory_order_relaxed);
    atomic_add_double(&s->value, v);
}

void sf_metrics_set_gauge(sf_metrics *m, const char *name, const char *help, double v)
{
    sf_metric_set(sf_metric_get(sf_metrics_gauge(m, name, help, NULL), NULL), v);
}

/* ---- collectors ---- */

int sf_metrics_add_collector(sf_metrics *m, void (*fn)(void *arg), void *arg)
{
    if (!m)
        return SF_EINTERNAL;
    pthread_mutex_lock(&m->collect_lock);
    collector *c = realloc(m->collectors, (m->n_collectors + 1) * sizeof(*c));
    if (c) {
        m->collectors = c;
        c[m->n_collectors++] = (collector){fn, arg};
    }
    pthread_mutex_unlock(&m->collect_lock);
    return c ? 0 : SF_EINTERNAL;
}

void sf_metrics_remove_collector(sf_metrics *m, void (*fn)(void *arg), void *arg)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->collect_lock);
    for (size_t i = 0; i < m->n_collectors; i++) {
        if (m->collectors[i].fn == fn && m->collectors[i].arg == arg) {
            memmove(&m->collectors[i], &m->collectors[i + 1],
                    (m->n_collectors - i - 1) * sizeof(*m->collectors));
            m->n_collectors--;
            break;
        }
    }
    pthread_mutex_unlock(&m->collect_lock);
}

/* ---- the text format ---- */

/* A number as the format writes it: the shortest text that reads back as v. */
static void put_number(sf_buf *b, double v)
{
    if (isnan(v)) {
        sf_buf_puts(b, "NaN");
    } else if (isinf(v)) {
        sf_buf_puts(b, v > 0 ? "+Inf" : "-Inf");
    } else if (v == floor(v) && fabs(v) < 1e15) {
        sf_buf_printf(b, "%.0f", v);
    } else {
        char text[40];
        snprintf(text, sizeof(text), "%.15g", v);
        if (strtod(text, NULL) != v)
            snprintf(text, sizeof(text), "%.17g", v);
        sf_buf_puts(b, text);
    }
}

/* HELP text escapes backslash and newline; label values also the double quote. */
static void put_escaped(sf_buf *b, const char *s, int quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            sf_buf_puts(b, "\\\\");
        else if (*s == '\n')
            sf_buf_puts(b, "\\n");
        else if (quote && *s == '"')
            sf_buf_puts(b, "\\\"");
        else
            sf_buf_putc(b, *s);
    }
}

/* name{a="x",b="y"[,le="0.5"]}: the braces only when there is a label. */
static void put_series_name(sf_buf *b, const sf_metric_family *f, const sf_metric *s,
                            const char *suffix, const double *le)
{
    sf_buf_puts(b, f->name);
    sf_buf_puts(b, suffix);
    if (!f->n_labels && !le)
        return;
    sf_buf_putc(b, '{');
    for (size_t i = 0; i < f->n_labels; i++) {
        sf_buf_printf(b, "%s%s=\"", i ? "," : "", f->labels[i]);
        put_escaped(b, s->values[i], 1);
        sf_buf_putc(b, '"');
    }
    if (le) {
        sf_buf_puts(b, f->n_labels ? ",le=\"" : "le=\"");
        put_number(b, *le);
        sf_buf_putc(b, '"');
    }
    sf_buf_putc(b, '}');
}

static void put_sample(sf_buf *b, const sf_metric_family *f, const sf_metric *s, const char *suffix,
                       const double *le, double v)
{
    put_series_name(b, f, s, suffix, le);
    sf_buf_putc(b, ' ');
    put_number(b, v);
    sf_buf_putc(b, '\n');
}

/* A histogram's count is its buckets' total, read once, so that the +Inf bucket and _count
 * always agree even while other threads observe. */
static void put_histogram(sf_buf *b, const sf_metric_family *f, const sf_metric *s)
{
    uint64_t total = 0;
    for (size_t i = 0; i <= f->n_bounds; i++) {
        total += atomic_load_explicit(&s->counts[i], memory_order_relaxed);
        double le = i < f->n_bounds ? f->bounds[i] : INFINITY;
        put_sample(b, f, s, "_bucket", &le, (double)total);
    }
    put_sample(b, f, s, "_sum", NULL,
               double_of(atomic_load_explicit(&s->value, memory_order_relaxed)));
    put_sample(b, f, s, "_count", NULL, (double)total);
}

static void put_family(sf_buf *b, sf_metric_family *f)
{
    sf_metric *head = atomic_load_explicit(&f->head, memory_order_acquire);
    if (head) {
        sf_buf_printf(b, "# HELP %s ", f->name);
        put_escaped(b, f->help, 0);
        sf_buf_printf(b, "\n# TYPE %s %s\n", f->name, KIND_NAMES[f->kind]);
    }
    for (const sf_metric *s = head; s; s = atomic_load_explicit(&s->next, memory_order_acquire)) {
        if (f->kind == KIND_HISTOGRAM)
            put_histogram(b, f, s);
        else
            put_sample(b, f, s, "", NULL,
                       double_of(atomic_load_explicit(&s->value, memory_order_relaxed)));
    }
}

void sf_metrics_render(sf_metrics *m, sf_buf *out)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->collect_lock);
    for (size_t i = 0; i < m->n_collectors; i++)
        m->collectors[i].fn(m->collectors[i].arg);
    pthread_mutex_lock(&m->lock);
    for (sf_metric_family *f = m->head; f; f = f->next)
        put_family(out, f);
    pthread_mutex_unlock(&m->lock);
    pthread_mutex_unlock(&m->collect_lock);
}
