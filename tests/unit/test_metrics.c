/* sf_metrics and sf_metrics_http: the text format, exactly; updates from many threads; the
 * listener over a real socket. */
#include "sf_metrics.h"
#include "sf_metrics_http.h"
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static char *render(sf_metrics *m)
{
    sf_buf b = SF_BUF_INIT;
    sf_metrics_render(m, &b);
    size_t len;
    char *text = sf_buf_take(&b, &len);
    return text ? text : strdup("");
}

static void test_counter_with_labels_renders_help_type_and_one_line_per_series(void)
{
    sf_metrics *m;
    CHECK(sf_metrics_new(&m) == 0);
    sf_metric_family *f = sf_metrics_counter(m, "req_total", "Requests served", "route,status");
    sf_metric_inc(sf_metric_get(f, SF_LABELS("/a", "200")));
    sf_metric_add(sf_metric_get(f, SF_LABELS("/a", "200")), 2);
    sf_metric_inc(sf_metric_get(f, SF_LABELS("/b", "404")));
    char *text = render(m);
    CHECK_STR(text, "# HELP req_total Requests served\n"
                    "# TYPE req_total counter\n"
                    "req_total{route=\"/a\",status=\"200\"} 3\n"
                    "req_total{route=\"/b\",status=\"404\"} 1\n");
    free(text);
    sf_metrics_free(m);
}

static void test_family_without_labels_shows_zero_before_any_update(void)
{
    sf_metrics *m;
    CHECK(sf_metrics_new(&m) == 0);
    sf_metrics_gauge(m, "depth", "Items waiting", NULL);
    sf_metrics_counter(m, "unused_total", "Labelled, never used", "kind");
    char *text = render(m);
    CHECK_STR(text, "# HELP depth Items waiting\n# TYPE depth gauge\ndepth 0\n");
    free(text);
    sf_metrics_free(m);
}

static void test_label_values_and_help_are_escaped(void)
{
    sf_metrics *m;
    CHECK(sf_metrics_new(&m) == 0);
    sf_metric_family *f = sf_metrics_gauge(m, "g", "back\\slash\nnewline \"quoted\"", "v");
    sf_metric_set(sf_metric_get(f, SF_LABELS("a\"b\\c\nd")), -1.5);
    char *text = render(m);
    CHECK_STR(text, "# HELP g back\\\\slash\\nnewline \"quoted\"\n"
                    "# TYPE g gauge\n"
                    "g{v=\"a\\\"b\\\\c\\nd\"} -1.5\n");
    free(text);
    sf_metrics_free(m);
}

static void test_histogram_buckets_are_cumulative_and_agree_with_count(void)
{
    sf_metrics *m;
    CHECK(sf_metrics_new(&m) == 0);
    const double bounds[] = {0.1, 1, 10};
    sf_metric_family *f = sf_metrics_histogram(m, "lat_seconds", "Latency", "op", bounds, 3);
    sf_metric *s = sf_metric_get(f, SF_LABELS("x"));
    sf_metric_observe(s, 0.05);
    sf_metric_observe(s, 0.1); /* on a bound: in that bucket (le is "less or equal") */
    sf_metric_observe(s, 5);
    sf_metric_observe(s, 100);
    char *text = render(m);
    CHECK_STR(text, "# HELP lat_seconds Latency\n"
                    "# TYPE lat_seconds histogram\n"
                    "lat_seconds_bucket{op=\"x\",le=\"0.1\"} 2\n"
                    "lat_seconds_bucket{op=\"x\",le=\"1\"} 2\n"
                    "lat_seconds_bucket{op=\"x\",le=\"10\"} 3\n"
                    "lat_seconds_bucket{op=\"x\",le=\"+Inf\"} 4\n"
                    "lat_seconds_sum{op=\"x\"} 105.15\n"
                    "lat_seconds_count{op=\"x\"} 4\n");
    free(text);
    sf_metrics_free(m);
}

static void test_registering_twice_finds_the_same_family_and_a_clash_is_refused(void)
{
    sf_metrics *m;
    CHECK(sf_metrics_new(&m) == 0);
    sf_metric_family *a = sf_metrics_counter(m, "x_total", "X", "k");
    CHECK(a != NULL);
    CHECK(sf_metrics_counter(m, "x_total", "X again", "k") == a);
    CHECK(sf_metrics_gauge(m, "x_total", "X", "k") == NULL);
    CHECK(sf_metrics_counter(m, "x_total", "X", "other") == NULL);
    CHECK(sf_metrics_counter(m, "1bad", "starts with a digit", NULL) == NULL);
    CHECK(sf_metrics_counter(m, "ok_total", "bad label", "__reserved") == NULL);
    CHECK(sf_metrics_histogram(m, "h", "le is the histogram's", "le", NULL, 0) == NULL);
    const double down[] = {2, 1};
    CHECK(sf_metrics_histogram(m, "h2", "bounds must increase", NULL, down, 2) == NULL);
    /* updates of what could not be made do nothing */
    sf_metric_inc(sf_metric_get(NULL, SF_LABELS("v")));
    sf_metric_observe(NULL, 1);
    /* a counter is never added a negative, and takes no observation */
    sf_metric *c = sf_metric_get(a, SF_LABELS("v"));
    sf_metric_add(c, -5);
    sf_metric_observe(c, 7);
    char *text = render(m);
    CHECK(strstr(text, "x_total{k=\"v\"} 0\n") != NULL);
    free(text);
    sf_metrics_free(m);
}

static void test_series_beyond_the_cap_are_not_made(void)
{
    sf_metrics *m;
    CHECK(sf_metrics_new(&m) == 0);
    sf_metric_family *f = sf_metrics_counter(m, "many_total", "Many", "i");
    int made = 0;
    for (int i = 0; i < SF_METRICS_MAX_SERIES + 10; i++) {
        char v[16];
        snprintf(v, sizeof(v), "%d", i);
        made += sf_metric_get(f, SF_LABELS(v)) != NULL;
    }
    CHECK(made == SF_METRICS_MAX_SERIES);
    CHECK(sf_metric_get(f, SF_LABELS("0")) != NULL); /* an existing one is still found */
    sf_metrics_free(m);
}

enum { THREADS = 8, PER_THREAD = 20000 };

static void *hammer(void *arg)
{
    sf_metric_family **fs = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        sf_metric_inc(sf_metric_get(fs[0], SF_LABELS(i % 2 ? "odd" : "even")));
        sf_metric_observe(sf_metric_get(fs[1], NULL), 0.5);
    }
    return NULL;
}

static void test_updates_from_many_threads_are_all_counted(void)
{
    sf_metrics *m;
    CHECK(sf_metrics_new(&m) == 0);
    sf_metric_family *fs[2] = {sf_metrics_counter(m, "n_total", "N", "parity"),
                               sf_metrics_histogram(m, "h_seconds", "H", NULL, NULL, 0)};
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, hammer, fs);
    for (int i = 0; i < 20; i++)
        free(render(m)); /* rendering while they run */
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    char *text = render(m);
    char want[128];
    snprintf(want, sizeof(want), "n_total{parity=\"even\"} %d\n", THREADS * PER_THREAD / 2);
    CHECK(strstr(text, want) != NULL);
    snprintf(want, sizeof(want), "h_seconds_count %d\n", THREADS * PER_THREAD);
    CHECK(strstr(text, want) != NULL);
    snprintf(want, sizeof(want), "h_seconds_sum %d\n", THREADS * PER_THREAD / 2);
    CHECK(strstr(text, want) != NULL);
    free(text);
    sf_metrics_free(m);
}

static void collect(void *arg)
{
    int *calls = arg;
    (*calls)++;
}

static void test_collectors_run_at_every_rendering_until_removed(void)
{
    sf_metrics *m;
    CHECK(sf_metrics_new(&m) == 0);
    int calls = 0;
    CHECK(sf_metrics_add_collector(m, collect, &calls) == 0);
    free(render(m));
    free(render(m));
    sf_metrics_remove_collector(m, collect, &calls);
    free(render(m));
    CHECK(calls == 2);
    sf_metrics_free(m);
}

static int status_of(const char *req, int *head)
{
    return sf_metrics_http_status(req, strlen(req), head);
}

static void test_listener_answers_only_get_and_head_of_metrics(void)
{
    int head;
    CHECK(status_of("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &head) == 200 && !head);
    CHECK(status_of("GET /metrics?x=1 HTTP/1.0\n\n", &head) == 200);
    CHECK(status_of("HEAD /metrics HTTP/1.1\r\n\r\n", &head) == 200 && head);
    CHECK(status_of("POST /metrics HTTP/1.1\r\n\r\n", &head) == 405);
    CHECK(status_of("GET / HTTP/1.1\r\n\r\n", &head) == 404);
    CHECK(status_of("GET /metricsx HTTP/1.1\r\n\r\n", &head) == 404);
    CHECK(status_of("GET /metrics\r\n\r\n", &head) == 400);
    CHECK(status_of("GET /metrics FTP/1\r\n\r\n", &head) == 400);
    CHECK(status_of("GET /metrics HTTP/1.1", &head) == 400); /* no end of line */
    CHECK(status_of("", &head) == 400);
    CHECK(status_of(" /metrics HTTP/1.1\r\n", &head) == 400);
}

static void test_listen_address_takes_a_port_or_host_and_port(void)
{
    char host[64];
    int port;
    sf_error err = SF_ERROR_INIT;
    CHECK(sf_metrics_listen_parse("9100", host, sizeof(host), &port, &err) == 0);
    CHECK_STR(host, "127.0.0.1");
    CHECK(port == 9100);
    CHECK(sf_metrics_listen_parse("0.0.0.0:9101", host, sizeof(host), &port, &err) == 0);
    CHECK_STR(host, "0.0.0.0");
    CHECK(port == 9101);
    CHECK(sf_metrics_listen_parse(":9102", host, sizeof(host), &port, &err) == 0);
    CHECK_STR(host, "127.0.0.1");
    CHECK(sf_metrics_listen_parse("[::1]:9103", host, sizeof(host), &port, &err) == 0);
    CHECK_STR(host, "::1");
    CHECK(port == 9103);
    CHECK(sf_metrics_listen_parse("host:0", host, sizeof(host), &port, &err) == SF_EINVAL);
    CHECK(sf_metrics_listen_parse("host:70000", host, sizeof(host), &port, &err) == SF_EINVAL);
    CHECK(sf_metrics_listen_parse("host:", host, sizeof(host), &port, &err) == SF_EINVAL);
    CHECK(sf_metrics_listen_parse("[::1]9103", host, sizeof(host), &port, &err) == SF_EINVAL);
    CHECK(sf_metrics_listen_parse("", host, sizeof(host), &port, &err) == SF_EINVAL);
}

static int unused_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    bind(fd, (struct sockaddr *)&a, sizeof(a));
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

static char *fetch(int port, const char *request)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
        close(fd);
        return strdup("");
    }
    send(fd, request, strlen(request), 0);
    sf_buf b = SF_BUF_INIT;
    char chunk[4096];
    ssize_t n;
    while ((n = recv(fd, chunk, sizeof(chunk), 0)) > 0)
        sf_buf_append(&b, chunk, (size_t)n);
    close(fd);
    size_t len;
    char *text = sf_buf_take(&b, &len);
    return text ? text : strdup("");
}

static void test_listener_serves_the_registry_over_http(void)
{
    sf_metrics *m;
    CHECK(sf_metrics_new(&m) == 0);
    sf_metric_inc(sf_metric_get(sf_metrics_counter(m, "hits_total", "Hits", NULL), NULL));
    int port = unused_port();
    char addr[32];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    sf_metrics_server *s;
    sf_error err = SF_ERROR_INIT;
    CHECK(sf_metrics_serve(&s, m, addr, &err) == 0);
    sf_metrics_server *again;
    CHECK(sf_metrics_serve(&again, m, addr, &err) == SF_EUNAVAIL); /* the port is taken */
    char *r = fetch(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(!strncmp(r, "HTTP/1.1 200 ", 13));
    CHECK(strstr(r, "Content-Type: " SF_METRICS_CONTENT_TYPE "\r\n") != NULL);
    CHECK(strstr(r, "\r\n\r\n# HELP hits_total Hits\n# TYPE hits_total counter\nhits_total 1\n"));
    free(r);
    r = fetch(port, "GET /other HTTP/1.1\r\n\r\n");
    CHECK(!strncmp(r, "HTTP/1.1 404 ", 13));
    free(r);
    r = fetch(port, "DELETE /metrics HTTP/1.1\r\n\r\n");
    CHECK(!strncmp(r, "HTTP/1.1 405 ", 13) && strstr(r, "Allow: GET, HEAD\r\n"));
    free(r);
    sf_metrics_server_stop(s);
    sf_metrics_free(m);
}

int main(void)
{
    RUN(test_counter_with_labels_renders_help_type_and_one_line_per_series);
    RUN(test_family_without_labels_shows_zero_before_any_update);
    RUN(test_label_values_and_help_are_escaped);
    RUN(test_histogram_buckets_are_cumulative_and_agree_with_count);
    RUN(test_registering_twice_finds_the_same_family_and_a_clash_is_refused);
    RUN(test_series_beyond_the_cap_are_not_made);
    RUN(test_updates_from_many_threads_are_all_counted);
    RUN(test_collectors_run_at_every_rendering_until_removed);
    RUN(test_listener_answers_only_get_and_head_of_metrics);
    RUN(test_listen_address_takes_a_port_or_host_and_port);
    RUN(test_listener_serves_the_registry_over_http);
    return TEST_EXIT();
}
