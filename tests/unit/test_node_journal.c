/* node_journal: a node agent's outbox on disk, read back in order by the next start. */
#include "node_journal.h"
#include "sf_proc.h"
#include "test.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct seen {
    uint64_t n[16];
    char events[16][32];
    int runs[16];
    size_t count;
} seen;

static void collect(void *arg, uint64_t n, Stbfarm__OutboxItem *item, const char *run_dir)
{
    seen *s = arg;
    if (s->count < 16) {
        s->n[s->count] = n;
        snprintf(s->events[s->count], sizeof(s->events[0]), "%s",
                 item->report ? item->report->event : item->result->outcome);
        s->runs[s->count] = run_dir && access(run_dir, F_OK) == 0;
        s->count++;
    }
    stbfarm__outbox_item__free_unpacked(item, NULL);
}

static void report(node_journal *j, uint64_t n, const char *event, int durable)
{
    Stbfarm__JobReport r = STBFARM__JOB_REPORT__INIT;
    r.job_uid = (char *)"/stb-tester-1/0a23/1";
    r.event = (char *)event;
    Stbfarm__OutboxItem item = STBFARM__OUTBOX_ITEM__INIT;
    item.report = &r;
    CHECK(node_journal_write(j, n, &item, durable, NULL) == 0);
}

static void touch(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_items_come_back_in_order_with_their_runs_and_leave_when_removed(void)
{
    char dir[] = "/tmp/test_node_journal_XXXXXX", outbox[64], run[80], path[160], moved[1100];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(outbox, sizeof(outbox), "%s/outbox", dir);
    node_journal *j;
    CHECK(node_journal_open(&j, outbox, NULL) == 0);
    report(j, 3, "started", 1);
    /* a finished run: its directory taken into the journal, then its item */
    snprintf(run, sizeof(run), "%s/run", dir);
    mkdir(run, 0755);
    snprintf(path, sizeof(path), "%s/stdout.log", run);
    touch(path, "hello\n");
    CHECK(node_journal_take_run(j, 4, run, moved, sizeof(moved), NULL) == 0);
    CHECK(access(run, F_OK) != 0);
    Stbfarm__ResultMeta meta = STBFARM__RESULT_META__INIT;
    meta.job_uid = meta.node_id = meta.test_case = meta.test_pack_sha = meta.username =
        meta.job_category = (char *)"x";
    Stbfarm__OutboxResult res = STBFARM__OUTBOX_RESULT__INIT;
    res.meta = &meta;
    res.seq = 1;
    res.outcome = (char *)"pass";
    Stbfarm__OutboxItem item = STBFARM__OUTBOX_ITEM__INIT;
    item.result = &res;
    CHECK(node_journal_write(j, 4, &item, 1, NULL) == 0);
    report(j, 12, "log", 0);
    report(j, 10, "finished", 1);
    node_journal_close(j);

    /* what a crash leaves: an item half written, a run no item names */
    snprintf(path, sizeof(path), "%s/00000000000000000020.tmp", outbox);
    touch(path, "half");
    snprintf(path, sizeof(path), "%s/00000000000000000021.run", outbox);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/00000000000000000022.item", outbox);
    touch(path, "not a message");

    seen s = {0};
    uint64_t next = 0;
    CHECK(node_journal_open(&j, outbox, NULL) == 0);
    CHECK(node_journal_load(j, collect, &s, &next, NULL) == 0);
    CHECK(s.count == 4);
    CHECK(s.n[0] == 3 && s.n[1] == 4 && s.n[2] == 10 && s.n[3] == 12);
    CHECK_STR(s.events[0], "started");
    CHECK_STR(s.events[1], "pass");
    CHECK(s.runs[1] && !s.runs[0]);
    CHECK_STR(s.events[2], "finished");
    CHECK(next == 23);
    snprintf(path, sizeof(path), "%s/00000000000000000020.tmp", outbox);
    CHECK(access(path, F_OK) != 0);
    snprintf(path, sizeof(path), "%s/00000000000000000021.run", outbox);
    CHECK(access(path, F_OK) != 0);
    snprintf(path, sizeof(path), "%s/00000000000000000022.bad", outbox);
    CHECK(access(path, F_OK) == 0); /* kept for a person to look at, never delivered */

    node_journal_remove(j, 4);
    snprintf(path, sizeof(path), "%s/00000000000000000004.run", outbox);
    CHECK(access(path, F_OK) != 0);
    seen again = {0};
    CHECK(node_journal_load(j, collect, &again, &next, NULL) == 0);
    CHECK(again.count == 3 && again.n[1] == 10);
    node_journal_close(j);
    sf_remove_tree(dir);
}

int main(void)
{
    RUN(test_items_come_back_in_order_with_their_runs_and_leave_when_removed);
    return TEST_EXIT();
}
