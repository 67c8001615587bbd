/* store_backup: an online copy of the database with VACUUM INTO. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/internal.h"

static const char SQL_VACUUM_INTO[] = "VACUUM INTO ?1";
static const char SQL_QUICK_CHECK[] = "PRAGMA quick_check";

/* Opens path as it is, without creating or migrating it. */
static sqlite3 *open_existing(const char *path, int flags, char *err, size_t errsz)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        snprintf(err, errsz, "cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 10000);
    return db;
}

/* Runs one statement (sql, with ?1 bound to arg when not NULL) to its end;
 * a row's first column, when there is one, goes to first (size n). */
static int run_one(sqlite3 *db, const char *sql, const char *arg, char *first, size_t n)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);
    if (rc == SQLITE_OK && arg)
        rc = sqlite3_bind_text(stmt, 1, arg, -1, SQLITE_TRANSIENT);
    while (rc == SQLITE_OK || rc == SQLITE_ROW) {
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW && first && sqlite3_column_text(stmt, 0))
            snprintf(first, n, "%s", (const char *)sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Makes the new file durable: its data, then its directory entry. */
static void sync_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* Checks the copy at dest. */
static int verify(const char *dest, char *err, size_t errsz)
{
    char result[256] = "";
    sqlite3 *db = open_existing(dest, SQLITE_OPEN_READONLY, err, errsz);
    if (!db)
        return -1;
    int rc = run_one(db, SQL_QUICK_CHECK, NULL, result, sizeof(result));
    sqlite3_close(db);
    if (rc != SQLITE_OK || strcmp(result, "ok") != 0) {
        snprintf(err, errsz, "the copy %s fails its check: %s", dest, result);
        return -1;
    }
    return 0;
}

enum store_rc store_backup(const char *path, const char *dest, char *err, size_t errsz)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        snprintf(err, errsz, "no database at %s", path);
        return STORE_NOT_FOUND;
    }
    if (stat(dest, &sb) == 0) {
        snprintf(err, errsz, "%s exists already: give a new file name", dest);
        return STORE_DUPLICATE;
    }
    sqlite3 *db = open_existing(path, SQLITE_OPEN_READWRITE, err, errsz);
    if (!db)
        return STORE_ERROR;
    int rc = run_one(db, SQL_VACUUM_INTO, dest, NULL, 0);
    if (rc != SQLITE_OK)
        snprintf(err, errsz, "cannot write %s: %s", dest, sqlite3_errmsg(db));
    sqlite3_close(db);
    if (rc != SQLITE_OK)
        return rc == SQLITE_BUSY ? STORE_BUSY : STORE_ERROR;
    sync_file(dest);
    return verify(dest, err, errsz) == 0 ? STORE_OK : STORE_ERROR;
}
