#include "sf_lircd.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_WORDS = 8, MAX_NAME = 128 };

/* Where the parser is: between remotes, in a remote's parameters, in its codes. */
typedef enum { OUTSIDE, IN_REMOTE, IN_CODES, IN_RAW_CODES } place;

typedef struct parser {
    sf_lircd_conf *conf;
    sf_lircd_remote *cur; /* the remote being read */
    place where;
    int raw_has_name; /* in raw_codes: a "name" line came before these numbers */
    int lineno;
    sf_error *err;
} parser;

typedef struct word {
    const char *s;
    size_t n;
} word;

static int word_is(const word *w, const char *lit)
{
    return w->n == strlen(lit) && !strncasecmp(w->s, lit, w->n);
}

static int bad(parser *p, const char *what)
{
    return sf_fail(p->err, SF_EINVAL, "lircd.conf line %d: %s", p->lineno, what);
}

/* A key or remote name: printable, no spaces (lircd's own rule), at most MAX_NAME bytes. */
static int valid_name(const word *w)
{
    if (w->n == 0 || w->n > MAX_NAME)
        return 0;
    for (size_t i = 0; i < w->n; i++) {
        unsigned char c = (unsigned char)w->s[i];
        if (c <= ' ' || c >= 0x7f)
            return 0;
    }
    return 1;
}

/* A code value as lircd writes them: 0x-prefixed hex or decimal. */
static int valid_number(const word *w)
{
    size_t i = 0;
    int hex = w->n > 2 && w->s[0] == '0' && (w->s[1] == 'x' || w->s[1] == 'X');
    if (hex)
        i = 2;
    if (i == w->n)
        return 0;
    for (; i < w->n; i++) {
        unsigned char c = (unsigned char)w->s[i];
        if (!(hex ? isxdigit(c) : isdigit(c)))
            return 0;
    }
    return 1;
}

static char *dup_word(const word *w)
{
    char *s = malloc(w->n + 1);
    if (s) {
        memcpy(s, w->s, w->n);
        s[w->n] = '\0';
    }
    return s;
}

static int add_key(parser *p, const word *w)
{
    if (!valid_name(w))
        return bad(p, "a key name must be 1 to 128 printable characters");
    sf_lircd_remote *r = p->cur;
    if (r->n_keys == SF_LIRCD_MAX_KEYS)
        return bad(p, "a remote may have at most " SF_LIRCD_STR(SF_LIRCD_MAX_KEYS) " keys");
    char **keys = realloc(r->keys, (r->n_keys + 1) * sizeof(*keys));
    if (!keys)
        return sf_fail(p->err, SF_EINTERNAL, "out of memory");
    r->keys = keys;
    if (!(r->keys[r->n_keys] = dup_word(w)))
        return sf_fail(p->err, SF_EINTERNAL, "out of memory");
    r->n_keys++;
    return 0;
}

static int begin_remote(parser *p)
{
    sf_lircd_conf *c = p->conf;
    if (c->n_remotes == SF_LIRCD_MAX_REMOTES)
        return bad(p, "a file may define at most " SF_LIRCD_STR(SF_LIRCD_MAX_REMOTES) " remotes");
    sf_lircd_remote *rs = realloc(c->remotes, (c->n_remotes + 1) * sizeof(*rs));
    if (!rs)
        return sf_fail(p->err, SF_EINTERNAL, "out of memory");
    c->remotes = rs;
    p->cur = &c->remotes[c->n_remotes++];
    memset(p->cur, 0, sizeof(*p->cur));
    p->where = IN_REMOTE;
    return 0;
}

static int line_outside(parser *p, const word *w, size_t n)
{
    if (n == 2 && word_is(&w[0], "begin") && word_is(&w[1], "remote"))
        return begin_remote(p);
    if (word_is(&w[0], "include"))
        return bad(p, "include directives are not supported in a test pack's remote control");
    return bad(p, "expected \"begin remote\"");
}

static int line_remote(parser *p, const word *w, size_t n)
{
    if (n == 2 && word_is(&w[0], "begin") && word_is(&w[1], "codes")) {
        p->where = IN_CODES;
        return 0;
    }
    if (n == 2 && word_is(&w[0], "begin") && word_is(&w[1], "raw_codes")) {
        p->where = IN_RAW_CODES;
        p->raw_has_name = 0;
        return 0;
    }
    if (n == 2 && word_is(&w[0], "end") && word_is(&w[1], "remote")) {
        if (!p->cur->name)
            return bad(p, "this remote has no \"name\"");
        p->where = OUTSIDE;
        return 0;
    }
    if (word_is(&w[0], "begin") || word_is(&w[0], "end"))
        return bad(p, "expected \"begin codes\", \"begin raw_codes\" or \"end remote\"");
    if (word_is(&w[0], "name")) {
        if (n != 2 || !valid_name(&w[1]))
            return bad(p, "\"name\" takes one name of printable characters");
        if (p->cur->name)
            return bad(p, "this remote already has a name");
        if (!(p->cur->name = dup_word(&w[1])))
            return sf_fail(p->err, SF_EINTERNAL, "out of memory");
        return 0;
    }
    if (n < 2)
        return bad(p, "a parameter needs a value");
    return 0; /* bits, flags, header, gap, ...: the timing is lircd's business, not ours */
}

static int line_codes(parser *p, const word *w, size_t n)
{
    if (n == 2 && word_is(&w[0], "end") && word_is(&w[1], "codes")) {
        p->where = IN_REMOTE;
        return 0;
    }
    if (n < 2)
        return bad(p, "a code line is a key name and its code");
    for (size_t i = 1; i < n; i++) {
        if (!valid_number(&w[i]))
            return bad(p, "a code is a hex (0x...) or decimal number");
    }
    return add_key(p, &w[0]);
}

static int line_raw_codes(parser *p, const word *w, size_t n)
{
    if (n == 2 && word_is(&w[0], "end") && word_is(&w[1], "raw_codes")) {
        p->where = IN_REMOTE;
        return 0;
    }
    if (word_is(&w[0], "name")) {
        if (n != 2)
            return bad(p, "\"name\" takes one key name");
        p->raw_has_name = 1;
        return add_key(p, &w[1]);
    }
    if (!p->raw_has_name)
        return bad(p, "raw codes must follow a \"name KEY\" line");
    for (size_t i = 0; i < n; i++) {
        if (!valid_number(&w[i]))
            return bad(p, "raw codes are decimal pulse and space lengths");
    }
    return 0;
}

/* Split [s, e) into white-space separated words, the comment cut off. Returns the count, or
 * MAX_WORDS + 1 when there are more. */
static size_t split(const char *s, const char *e, word *w)
{
    size_t n = 0;
    while (s < e) {
        while (s < e && isspace((unsigned char)*s))
            s++;
        if (s == e || *s == '#')
            break;
        const char *start = s;
        while (s < e && !isspace((unsigned char)*s) && *s != '#')
            s++;
        if (n == MAX_WORDS)
            return MAX_WORDS + 1;
        w[n].s = start;
        w[n++].n = (size_t)(s - start);
    }
    return n;
}

int sf_lircd_parse(const char *text, size_t len, sf_lircd_conf **out, sf_error *err)
{
    *out = NULL;
    parser p = {0};
    p.err = err;
    if (memchr(text, '\0', len))
        return sf_fail(err, SF_EINVAL, "lircd.conf: NUL byte");
    if (!(p.conf = calloc(1, sizeof(*p.conf))))
        return sf_fail(err, SF_EINTERNAL, "out of memory");
    int rc = 0;
    const char *s = text, *end = text + len;
    while (s < end && !rc) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *e = nl ? nl : end;
        word w[MAX_WORDS];
        p.lineno++;
        size_t n = split(s, e, w);
        s = nl ? nl + 1 : end;
        if (n == 0)
            continue;
        if (n > MAX_WORDS && p.where != IN_RAW_CODES) {
            rc = bad(&p, "too many words on one line");
            break;
        }
        if (n > MAX_WORDS)
            n = MAX_WORDS; /* raw code lines may be long; the first words are checked */
        switch (p.where) {
        case OUTSIDE:
            rc = line_outside(&p, w, n);
            break;
        case IN_REMOTE:
            rc = line_remote(&p, w, n);
            break;
        case IN_CODES:
            rc = line_codes(&p, w, n);
            break;
        case IN_RAW_CODES:
            rc = line_raw_codes(&p, w, n);
            break;
        }
    }
    if (!rc && p.where != OUTSIDE)
        rc = sf_fail(err, SF_EINVAL, "lircd.conf: the file ends inside a \"begin %s\"",
                     p.where == IN_REMOTE  ? "remote"
                     : p.where == IN_CODES ? "codes"
                                           : "raw_codes");
    if (!rc && p.conf->n_remotes == 0)
        rc = sf_fail(err, SF_EINVAL, "lircd.conf: no \"begin remote\" in the file");
    if (rc) {
        sf_lircd_free(p.conf);
        return rc;
    }
    *out = p.conf;
    return 0;
}

void sf_lircd_free(sf_lircd_conf *conf)
{
    if (!conf)
        return;
    for (size_t i = 0; i < conf->n_remotes; i++) {
        sf_lircd_remote *r = &conf->remotes[i];
        for (size_t k = 0; k < r->n_keys; k++)
            free(r->keys[k]);
        free(r->keys);
        free(r->name);
    }
    free(conf->remotes);
    free(conf);
}

const sf_lircd_remote *sf_lircd_remote_find(const sf_lircd_conf *conf, const char *name)
{
    for (size_t i = 0; i < conf->n_remotes; i++) {
        if (!strcmp(conf->remotes[i].name, name))
            return &conf->remotes[i];
    }
    return NULL;
}

int sf_lircd_has_key(const sf_lircd_remote *remote, const char *key)
{
    for (size_t i = 0; i < remote->n_keys; i++) {
        if (!strcmp(remote->keys[i], key))
            return 1;
    }
    return 0;
}
