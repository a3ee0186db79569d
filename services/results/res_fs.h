/* res_fs.h - the artifact store on disk, touched only through paths res_names.h has checked,
 * and never through a symbolic link: every component is opened relative to its parent with
 * O_NOFOLLOW, so a link a test left in its artifacts (or anyone planted in the store) leads
 * nowhere. Functions return 0 or a negative errno. */
#ifndef RES_FS_H
#define RES_FS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Open the directory rel ("a/b/c") under dirfd, making the missing ones when create is set
 * (each new directory's parent is fsync'd, so it survives a crash). *out is the directory's fd. */
int res_fs_open_dir(int dirfd, const char *rel, int create, int *out);

/* Open the regular file rel under dirfd with flags (O_RDONLY, or O_WRONLY|O_CREAT), making
 * missing directories when O_CREAT is given. -ENOENT also for something that is not a regular
 * file or is reached through a link. */
int res_fs_open_file(int dirfd, const char *rel, int flags, int *out);

/* fsync every file and directory under dirfd, and dirfd itself. */
int res_fs_sync_tree(int dirfd);

/* Remove name under dirfd and everything below it (links are removed, never followed).
 * Removing what does not exist succeeds. */
int res_fs_remove_tree(int dirfd, const char *name);

/* Call fn for every regular file under dirfd with its path relative to dirfd and its size;
 * entries that are not regular files or directories are reported with size -1. fn returning
 * non-zero stops the walk and is returned. */
typedef int (*res_fs_visit)(const char *path, int64_t size, void *arg);
int res_fs_walk(int dirfd, res_fs_visit fn, void *arg);

/* Remove, under dirfd, every regular file fn does not want to keep (fn returns 1 to keep) and
 * everything that is not a regular file or a directory. */
int res_fs_prune(int dirfd, int (*keep)(const char *path, void *arg), void *arg);

#endif
