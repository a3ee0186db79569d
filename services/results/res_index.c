#include "res_index.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

enum {
    SYNC_BATCH = 5000,     /* seqs fetched per round trip */
    INSERT_IN_PLACE = 256, /* more insertions than this in one sync: append, then sort once */
};

/* ---- interned strings ---- */

typedef struct istr {
    uint32_t id; /* dense, reused after free: queries memoise per string by id */
    uint32_t refs;
    char text[];
} istr;

/* ---- open-addressing hash tables keyed by a string inside the value ---- */

typedef struct slot {
    uint32_t hash;
    void *val; /* NULL: empty; &tombstone: deleted */
} slot;

typedef struct htab {
    size_t cap, used; /* used counts tombstones too */
    slot *slots;
    const char *(*key)(const void *val);
} htab;

static char tombstone;

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static slot *ht_find(htab *t, const char *key, uint32_t h)
{
    if (!t->cap)
        return NULL;
    for (size_t i = h & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        slot *s = &t->slots[i];
        if (!s->val)
            return NULL;
        if (s->val != &tombstone && s->hash == h && !strcmp(t->key(s->val), key))
            return s;
    }
}

/* Rehash into a table twice the live entries (tombstones dropped). */
static int ht_grow(htab *t)
{
    size_t live = 0, cap = 1024;
    for (size_t i = 0; i < t->cap; i++)
        live += t->slots[i].val && t->slots[i].val != &tombstone;
    while (cap < 4 * (live + 1))
        cap *= 2;
    slot *n = calloc(cap, sizeof(*n));
    if (!n)
        return -1;
    for (size_t i = 0; i < t->cap; i++) {
        slot *s = &t->slots[i];
        if (!s->val || s->val == &tombstone)
            continue;
        size_t j = s->hash & (cap - 1);
        while (n[j].val)
            j = (j + 1) & (cap - 1);
        n[j] = *s;
    }
    free(t->slots);
    t->slots = n;
    t->cap = cap;
    t->used = live;
    return 0;
}

/* Add val, whose key is not in t. */
static int ht_add(htab *t, void *val, uint32_t h)
{
    if ((t->used + 1) * 4 >= t->cap * 3 && ht_grow(t))
        return -1;
    size_t i = h & (t->cap - 1);
    while (t->slots[i].val && t->slots[i].val != &tombstone)
        i = (i + 1) & (t->cap - 1);
    if (!t->slots[i].val)
        t->used++;
    t->slots[i].hash = h;
    t->slots[i].val = val;
    return 0;
}

static void ht_free(htab *t)
{
    free(t->slots);
    memset(t, 0, sizeof(*t));
}

/* ---- rows ---- */

typedef struct row {
    char *id;
    istr *job, *node, *testcase, *sha, *branch, *user, *category, *reason;
    int64_t start_us, end_us;
    uint8_t outcome;
    uint8_t dead; /* removed, still in by_date until compact_rows */
    uint16_t n_tags;
    istr **tags; /* name, value, name, value ... */
} row;

struct res_index {
    pthread_rwlock_t lock; /* everything below */
    pthread_mutex_t sync;  /* one sync at a time */
    _Atomic uint64_t seq;  /* the store's seq the index reflects */
    int loaded;
    htab strings;  /* istr by text */
    istr **by_sid; /* istr by id */
    uint32_t n_sids, cap_sids;
    uint32_t *free_sids;
    uint32_t n_free, cap_free;
    htab rows;     /* row by result id */
    row **by_date; /* ordered by (start_us, id) */
    size_t n_rows, cap_rows;
};

static const char *istr_key(const void *v)
{
    return ((const istr *)v)->text;
}

static const char *row_key(const void *v)
{
    return ((const row *)v)->id;
}

int res_index_new(res_index **out, sf_error *err)
{
    res_index *idx = calloc(1, sizeof(*idx));
    if (!idx)
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    pthread_rwlock_init(&idx->lock, NULL);
    pthread_mutex_init(&idx->sync, NULL);
    idx->strings.key = istr_key;
    idx->rows.key = row_key;
    *out = idx;
    return 0;
}

static istr *intern(res_index *idx, const char *s)
{
    if (!s)
        return NULL;
    uint32_t h = hash_str(s);
    slot *found = ht_find(&idx->strings, s, h);
    if (found) {
        istr *p = found->val;
        p->refs++;
        return p;
    }
    size_t n = strlen(s);
    istr *p = malloc(sizeof(*p) + n + 1);
    if (!p)
        return NULL;
    memcpy(p->text, s, n + 1);
    p->refs = 1;
    if (!idx->n_free && idx->n_sids == idx->cap_sids) {
        uint32_t cap = idx->cap_sids ? idx->cap_sids * 2 : 1024;
        istr **b = realloc(idx->by_sid, cap * sizeof(*b));
        if (!b) {
            free(p);
            return NULL;
        }
        idx->by_sid = b;
        idx->cap_sids = cap;
    }
    if (ht_add(&idx->strings, p, h)) {
        free(p);
        return NULL;
    }
    p->id = idx->n_free ? idx->free_sids[--idx->n_free] : idx->n_sids++;
    idx->by_sid[p->id] = p;
    return p;
}

static void release(res_index *idx, istr *p)
{
    if (!p || --p->refs)
        return;
    slot *s = ht_find(&idx->strings, p->text, hash_str(p->text));
    if (s)
        s->val = &tombstone;
    idx->by_sid[p->id] = NULL;
    if (idx->n_free == idx->cap_free) {
        uint32_t cap = idx->cap_free ? idx->cap_free * 2 : 1024;
        uint32_t *f = realloc(idx->free_sids, cap * sizeof(*f));
        if (!f) { /* the id is lost to reuse: harmless */
            free(p);
            return;
        }
        idx->free_sids = f;
        idx->cap_free = cap;
    }
    idx->free_sids[idx->n_free++] = p->id;
    free(p);
}

static void row_free(res_index *idx, row *r)
{
    istr *fields[] = {r->job,    r->node, r->testcase, r->sha,
                      r->branch, r->user, r->category, r->reason};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        release(idx, fields[i]);
    for (size_t i = 0; i < 2u * r->n_tags; i++)
        release(idx, r->tags[i]);
    free(r->id);
    free(r);
}

static row *row_new(res_index *idx, const char *id, const Stbfarm__ResultRecord *rec)
{
    const Stbfarm__ResultMeta *m = rec->meta;
    res_outcome o;
    if (!m || res_outcome_parse(rec->result, &o))
        return NULL;
    size_t ntags = m->n_tags > 0xffff ? 0xffff : m->n_tags;
    row *r = calloc(1, sizeof(*r) + 2 * ntags * sizeof(istr *));
    if (!r)
        return NULL;
    r->tags = (istr **)(r + 1);
    r->id = strdup(id);
    r->job = intern(idx, m->job_uid);
    r->node = intern(idx, m->node_id);
    r->testcase = intern(idx, m->test_case);
    r->sha = intern(idx, m->test_pack_sha);
    r->branch = intern(idx, m->test_pack_branch);
    r->user = intern(idx, m->username);
    r->category = intern(idx, m->job_category);
    r->reason = intern(idx, rec->failure_reason);
    r->start_us = m->start_time_us;
    r->end_us = rec->end_time_us;
    r->outcome = (uint8_t)o;
    int ok = r->id && r->job && r->node && r->testcase && r->sha && r->user && r->category &&
             (r->branch || !m->test_pack_branch) && (r->reason || !rec->failure_reason);
    for (size_t i = 0; i < ntags; i++) {
        r->tags[2 * i] = intern(idx, m->tags[i]->key);
        r->tags[2 * i + 1] = intern(idx, m->tags[i]->value);
        r->n_tags++;
        ok &= r->tags[2 * i] && r->tags[2 * i + 1];
    }
    if (!ok) {
        row_free(idx, r);
        return NULL;
    }
    return r;
}

static int row_cmp_date(const row *a, const row *b)
{
    if (a->start_us != b->start_us)
        return a->start_us < b->start_us ? -1 : 1;
    return strcmp(a->id, b->id);
}

static int row_qsort_date(const void *a, const void *b)
{
    return row_cmp_date(*(row *const *)a, *(row *const *)b);
}

/* Where r is, or belongs, in by_date. */
static size_t date_position(const res_index *idx, const row *r)
{
    size_t lo = 0, hi = idx->n_rows;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (row_cmp_date(idx->by_date[mid], r) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Take the row of id out of the table; compact_rows takes it out of by_date and frees it. */
static void remove_row(res_index *idx, const char *id)
{
    slot *s = ht_find(&idx->rows, id, hash_str(id));
    if (!s)
        return;
    ((row *)s->val)->dead = 1;
    s->val = &tombstone;
}

static void compact_rows(res_index *idx)
{
    size_t k = 0;
    for (size_t i = 0; i < idx->n_rows; i++) {
        if (idx->by_date[i]->dead)
            row_free(idx, idx->by_date[i]);
        else
            idx->by_date[k++] = idx->by_date[i];
    }
    idx->n_rows = k;
}

static int add_row(res_index *idx, row *r, int in_place)
{
    if (idx->n_rows == idx->cap_rows) {
        size_t cap = idx->cap_rows ? idx->cap_rows * 2 : 4096;
        row **b = realloc(idx->by_date, cap * sizeof(*b));
        if (!b)
            return -1;
        idx->by_date = b;
        idx->cap_rows = cap;
    }
    if (ht_add(&idx->rows, r, hash_str(r->id)))
        return -1;
    size_t at = in_place ? date_position(idx, r) : idx->n_rows;
    memmove(idx->by_date + at + 1, idx->by_date + at, (idx->n_rows - at) * sizeof(row *));
    idx->by_date[at] = r;
    idx->n_rows++;
    return 0;
}

/* Apply one batch of changes; the caller holds the write lock. */
static int apply_locked(res_index *idx, const res_changes *ch, sf_error *err)
{
    size_t inserts = 0, deletes = 0;
    for (size_t i = 0; i < ch->n; i++) {
        if (ht_find(&idx->rows, ch->items[i].id, hash_str(ch->items[i].id))) {
            remove_row(idx, ch->items[i].id);
            deletes++;
        }
        inserts += ch->items[i].rec != NULL;
    }
    if (deletes)
        compact_rows(idx);
    int in_place = inserts <= INSERT_IN_PLACE;
    for (size_t i = 0; i < ch->n; i++) {
        if (!ch->items[i].rec)
            continue;
        row *r = row_new(idx, ch->items[i].id, ch->items[i].rec);
        if (!r || add_row(idx, r, in_place)) {
            if (r)
                row_free(idx, r);
            return sf_fail(err, SF_EINTERNAL, "result %s: out of memory or malformed",
                           ch->items[i].id);
        }
    }
    if (!in_place)
        qsort(idx->by_date, idx->n_rows, sizeof(row *), row_qsort_date);
    return 0;
}

int res_index_apply(res_index *idx, const res_changes *ch, sf_error *err)
{
    pthread_rwlock_wrlock(&idx->lock);
    int rc = apply_locked(idx, ch, err);
    pthread_rwlock_unlock(&idx->lock);
    return rc;
}

static void clear_rows(res_index *idx)
{
    for (size_t i = 0; i < idx->n_rows; i++)
        row_free(idx, idx->by_date[i]);
    idx->n_rows = 0;
    ht_free(&idx->rows);
    idx->rows.key = row_key;
}

void res_index_free(res_index *idx)
{
    if (!idx)
        return;
    clear_rows(idx);
    free(idx->by_date);
    ht_free(&idx->strings);
    free(idx->by_sid);
    free(idx->free_sids);
    pthread_rwlock_destroy(&idx->lock);
    pthread_mutex_destroy(&idx->sync);
    free(idx);
}

size_t res_index_count(res_index *idx)
{
    pthread_rwlock_rdlock(&idx->lock);
    size_t n = idx->n_rows;
    pthread_rwlock_unlock(&idx->lock);
    return n;
}

int res_index_sync(res_index *idx, sf_redis *r, sf_error *err)
{
    uint64_t remote;
    int rc = res_store_seq(r, &remote, err);
    if (rc)
        return rc;
    pthread_mutex_lock(&idx->sync);
    if (idx->loaded && remote < atomic_load(&idx->seq)) {
        /* the store went back (emptied, or restored from an older copy): start again */
        pthread_rwlock_wrlock(&idx->lock);
        clear_rows(idx);
        idx->loaded = 0;
        atomic_store(&idx->seq, 0);
        pthread_rwlock_unlock(&idx->lock);
    }
    while (!idx->loaded || atomic_load(&idx->seq) < remote) {
        res_changes ch;
        uint64_t since = atomic_load(&idx->seq);
        if ((rc = res_store_changes(r, since, !idx->loaded, SYNC_BATCH, &ch, err)))
            break;
        pthread_rwlock_wrlock(&idx->lock);
        if (ch.reload) { /* fell behind the deletions kept: start again */
            clear_rows(idx);
            idx->loaded = 0;
            atomic_store(&idx->seq, 0);
        } else {
            rc = apply_locked(idx, &ch, err);
            atomic_store(&idx->seq, ch.upto);
            if (ch.upto >= ch.seq)
                idx->loaded = 1;
            if (ch.seq > remote)
                remote = ch.seq;
        }
        pthread_rwlock_unlock(&idx->lock);
        res_changes_clear(&ch);
        if (rc)
            break;
    }
    pthread_mutex_unlock(&idx->sync);
    return rc;
}

/* ---- queries ---- */

/* What a term needs while it runs over the rows. */
typedef struct term_run {
    const res_term *t;
    int glob;
    const istr *exact;    /* name terms without '*': the string, or NULL if no row has it */
    const istr *tag_name; /* tag terms */
    const istr *tag_value;
    uint8_t *memo; /* glob and text terms: per string id, 0 unknown, 1 match, 2 not */
} term_run;

static const istr *lookup(res_index *idx, const char *s)
{
    slot *found = s ? ht_find(&idx->strings, s, hash_str(s)) : NULL;
    return found ? found->val : NULL;
}

static int memo_test(term_run *tr, const istr *s,
                     int (*test)(const char *pattern, const char *text))
{
    if (!s)
        return 0;
    uint8_t *m = &tr->memo[s->id];
    if (!*m)
        *m = test(tr->t->value, s->text) ? 1 : 2;
    return *m == 1;
}

static int contains_ci(const char *needle, const char *hay)
{
    return strcasestr(hay, needle) != NULL;
}

static int name_match(term_run *tr, const istr *field)
{
    if (tr->glob)
        return memo_test(tr, field, res_glob_match);
    return field == tr->exact && field != NULL;
}

static int term_match(term_run *tr, const row *r)
{
    const res_term *t = tr->t;
    int m = 0;
    switch (t->kind) {
    case RES_TERM_JOB:
        m = name_match(tr, r->job);
        break;
    case RES_TERM_TESTCASE:
        m = name_match(tr, r->testcase);
        break;
    case RES_TERM_CATEGORY:
        m = name_match(tr, r->category);
        break;
    case RES_TERM_NODE:
        m = name_match(tr, r->node);
        break;
    case RES_TERM_RESULT:
        m = r->outcome == t->outcome;
        break;
    case RES_TERM_DATE:
        m = r->start_us >= t->from_us && r->start_us < t->to_us;
        break;
    case RES_TERM_TAG:
        for (size_t i = 0; tr->tag_name && i < r->n_tags && !m; i++)
            m = r->tags[2 * i] == tr->tag_name &&
                (!t->tag_value || r->tags[2 * i + 1] == tr->tag_value);
        break;
    case RES_TERM_TEXT:
        m = memo_test(tr, r->testcase, contains_ci) || memo_test(tr, r->reason, contains_ci);
        break;
    }
    return m != t->negate;
}

static int row_match(term_run *runs, size_t n, const row *r)
{
    for (size_t i = 0; i < n; i++) {
        if (!term_match(&runs[i], r))
            return 0;
    }
    return 1;
}

/* A row with its sort keys. */
typedef struct keyed {
    int64_t k1, k2;
    const row *r;
} keyed;

static int keyed_cmp(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->k1 != y->k1)
        return x->k1 < y->k1 ? -1 : 1;
    if (x->k2 != y->k2)
        return x->k2 < y->k2 ? -1 : 1;
    return strcmp(x->r->id, y->r->id);
}

static int keyed_cmp_desc(const void *a, const void *b)
{
    return keyed_cmp(b, a);
}

static int istr_natural_cmp(const void *a, const void *b)
{
    return strverscmp((*(istr *const *)a)->text, (*(istr *const *)b)->text);
}

static const istr *sort_string(const row *r, res_sort_field f)
{
    return f == RES_SORT_CATEGORY ? r->category : f == RES_SORT_JOB ? r->job : r->testcase;
}

/* Give each distinct string of the sort field among the matches its rank in natural order
 * ("test_2" before "test_10"), so that the sort compares integers. */
static int rank_strings(res_index *idx, keyed *k, size_t n, res_sort_field f)
{
    int64_t *rank = calloc(idx->n_sids ? idx->n_sids : 1, sizeof(*rank));
    istr **distinct = malloc((n ? n : 1) * sizeof(*distinct));
    size_t nd = 0;
    if (!rank || !distinct) {
        free(rank);
        free(distinct);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        istr *s = (istr *)sort_string(k[i].r, f);
        if (!rank[s->id]) {
            rank[s->id] = 1;
            distinct[nd++] = s;
        }
    }
    qsort(distinct, nd, sizeof(*distinct), istr_natural_cmp);
    for (size_t i = 0; i < nd; i++)
        rank[distinct[i]->id] = (int64_t)i + 1;
    for (size_t i = 0; i < n; i++)
        k[i].k1 = rank[sort_string(k[i].r, f)->id];
    free(rank);
    free(distinct);
    return 0;
}

/* ---- copying hits out of the index ---- */

struct res_arena {
    struct res_arena *next;
    size_t used, cap;
    char data[];
};

static char *arena_copy(res_arena **a, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    if (!*a || (*a)->cap - (*a)->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        res_arena *b = malloc(sizeof(*b) + cap);
        if (!b)
            return NULL;
        b->next = *a;
        b->used = 0;
        b->cap = cap;
        *a = b;
    }
    char *p = (*a)->data + (*a)->used;
    memcpy(p, s, n);
    (*a)->used += n;
    return p;
}

void res_hits_clear(res_hits *h)
{
    for (res_arena *a = h->arena, *next; a; a = next) {
        next = a->next;
        free(a);
    }
    free(h->hits);
    memset(h, 0, sizeof(*h));
}

static const char *text_of(const istr *s)
{
    return s ? s->text : NULL;
}

static int copy_hit(res_hits *out, const row *r)
{
    res_hit *h = &out->hits[out->n];
    res_arena **a = &out->arena;
#define COPY(dst, src)                                                                             \
    if ((src) && !((dst) = arena_copy(a, (src))))                                                  \
        return -1;
    COPY(h->id, r->id);
    COPY(h->job_uid, text_of(r->job));
    COPY(h->node_id, text_of(r->node));
    COPY(h->test_case, text_of(r->testcase));
    COPY(h->test_pack_sha, text_of(r->sha));
    COPY(h->test_pack_branch, text_of(r->branch));
    COPY(h->username, text_of(r->user));
    COPY(h->job_category, text_of(r->category));
    COPY(h->failure_reason, text_of(r->reason));
#undef COPY
    h->start_us = r->start_us;
    h->end_us = r->end_us;
    h->outcome = (res_outcome)r->outcome;
    out->n++;
    return 0;
}

static void runs_free(term_run *runs, size_t n)
{
    for (size_t i = 0; runs && i < n; i++)
        free(runs[i].memo);
    free(runs);
}

/* Prepare each term for the rows as they are now; the caller holds the read lock. */
static int runs_prepare(res_index *idx, const res_filter *f, term_run **out)
{
    term_run *runs = calloc(f->n ? f->n : 1, sizeof(*runs));
    if (!runs)
        return -1;
    for (size_t i = 0; i < f->n; i++) {
        const res_term *t = &f->terms[i];
        term_run *tr = &runs[i];
        tr->t = t;
        tr->glob = t->kind != RES_TERM_TAG && t->kind != RES_TERM_TEXT && t->value &&
                   strchr(t->value, '*');
        if (tr->glob || t->kind == RES_TERM_TEXT) {
            if (!(tr->memo = calloc(idx->n_sids ? idx->n_sids : 1, 1))) {
                runs_free(runs, f->n);
                return -1;
            }
        } else if (t->kind == RES_TERM_TAG) {
            tr->tag_name = lookup(idx, t->value);
            tr->tag_value = lookup(idx, t->tag_value);
        } else {
            tr->exact = lookup(idx, t->value);
        }
    }
    *out = runs;
    return 0;
}

int res_index_query(res_index *idx, const res_filter *f, const res_sort *sort, size_t limit,
                    res_hits *out, sf_error *err)
{
    memset(out, 0, sizeof(*out));
    term_run *runs = NULL;
    keyed *k = NULL;
    size_t nk = 0;
    int rc = 0;
    pthread_rwlock_rdlock(&idx->lock);
    if (runs_prepare(idx, f, &runs) ||
        !(out->hits = calloc(limit ? limit : 1, sizeof(*out->hits)))) {
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
        goto done;
    }
    if (sort->field == RES_SORT_DATE) {
        /* by_date is the order already: walk it from the right end, stop at limit */
        for (size_t i = 0; i < idx->n_rows && out->n < limit; i++) {
            const row *r = idx->by_date[sort->descending ? idx->n_rows - 1 - i : i];
            if (row_match(runs, f->n, r) && copy_hit(out, r)) {
                rc = sf_fail(err, SF_EINTERNAL, "out of memory");
                goto done;
            }
        }
        goto done;
    }
    if (!(k = malloc((idx->n_rows ? idx->n_rows : 1) * sizeof(*k)))) {
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < idx->n_rows; i++) {
        const row *r = idx->by_date[i];
        if (!row_match(runs, f->n, r))
            continue;
        k[nk].r = r;
        k[nk].k2 = r->start_us;
        k[nk].k1 = sort->field == RES_SORT_DURATION ? r->end_us - r->start_us
                   : sort->field == RES_SORT_RESULT ? r->outcome
                                                    : 0;
        nk++;
    }
    if ((sort->field == RES_SORT_CATEGORY || sort->field == RES_SORT_JOB ||
         sort->field == RES_SORT_TESTCASE) &&
        rank_strings(idx, k, nk, sort->field)) {
        rc = sf_fail(err, SF_EINTERNAL, "out of memory");
        goto done;
    }
    qsort(k, nk, sizeof(*k), sort->descending ? keyed_cmp_desc : keyed_cmp);
    for (size_t i = 0; i < nk && out->n < limit; i++) {
        if (copy_hit(out, k[i].r)) {
            rc = sf_fail(err, SF_EINTERNAL, "out of memory");
            goto done;
        }
    }
done:
    pthread_rwlock_unlock(&idx->lock);
    runs_free(runs, f->n);
    free(k);
    if (rc)
        res_hits_clear(out);
    return rc;
}
