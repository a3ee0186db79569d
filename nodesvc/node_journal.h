/* node_journal.h - the node agent's outbox on disk. Every item the agent owes the services (a
 * report to the jobs service, or a finished run with its artifacts) is a file in one directory,
 * written and fsync'd before the runner counts the item as done and removed once the item is
 * delivered, so that an agent killed or restarted delivers every one of them when it starts
 * again, in their order:
 *
 *   <dir>/<n>.item   a packed OutboxItem (proto/outbox.proto); n, 20 digits, is the order
 *   <dir>/<n>.run/   the artifacts of item n's run, moved here from the job's directory
 *   <dir>/<n>.tmp    an item being written: a crash may leave one, the next start removes it
 *
 * The directory must be on the same filesystem as the runs' directories (both are under the
 * agent's --work-dir), so that taking a run is one rename. Functions that write say
 * SF_ENOSPACE when the disk is full, having left nothing half-written behind. */
#ifndef NODE_JOURNAL_H
#define NODE_JOURNAL_H

#include "outbox.pb-c.h"
#include "sf_err.h"

#include <stddef.h>
#include <stdint.h>

typedef struct node_journal node_journal;

/* Open the journal in dir, making the directory when it is missing. */
int node_journal_open(node_journal **out, const char *dir, sf_error *err);
void node_journal_close(node_journal *j);

/* What a previous start of the agent left, in order: fn(arg, n, item, run_dir) for each item,
 * run_dir being where its artifacts are (NULL for a report); fn takes item (free it with
 * stbfarm__outbox_item__free_unpacked). An item that cannot be read is renamed <n>.bad and left
 * out, with a warning; half-made items and runs no item names are removed. *next receives the
 * first n after every item found. */
typedef void (*node_journal_fn)(void *arg, uint64_t n, Stbfarm__OutboxItem *item,
                                const char *run_dir);
int node_journal_load(node_journal *j, node_journal_fn fn, void *arg, uint64_t *next,
                      sf_error *err);

/* Make run_dir (a finished run's artifacts) item n's: every file and directory in it fsync'd,
 * then moved into the journal. moved receives its new path (len bytes). On failure run_dir is
 * where it was. */
int node_journal_take_run(node_journal *j, uint64_t n, const char *run_dir, char *moved, size_t len,
                          sf_error *err);

/* Write item n. With durable set it is fsync'd, with the directory, before this returns;
 * without (the job log's many small reports) it survives the agent's death but perhaps not the
 * machine's. */
int node_journal_write(node_journal *j, uint64_t n, const Stbfarm__OutboxItem *item, int durable,
                       sf_error *err);

/* Item n is delivered: remove it and its artifacts. */
void node_journal_remove(node_journal *j, uint64_t n);

#endif
