#include "agent/host.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

long long host_online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? n : 0;
}

long long host_memory_mb(char *err, size_t errsz)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    long long kb = -1;

    if (!f) {
        snprintf(err, errsz, "/proc/meminfo: %s", strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "MemTotal: %lld kB", &kb) == 1)
            break;
    fclose(f);
    if (kb < 0) {
        snprintf(err, errsz, "/proc/meminfo has no MemTotal line");
        return -1;
    }
    return kb / 1024;
}

long long host_disk_gb(const char *path, char *err, size_t errsz)
{
    struct statvfs vfs;
    if (statvfs(path, &vfs) != 0) {
        snprintf(err, errsz, "statvfs %s: %s", path, strerror(errno));
        return -1;
    }
    unsigned long long bytes = (unsigned long long)vfs.f_frsize * vfs.f_blocks;
    return (long long)(bytes >> 30);
}

bool host_name(char *buf, size_t n)
{
    if (gethostname(buf, n) != 0)
        return false;
    buf[n - 1] = '\0';
    return buf[0] != '\0';
}

/* Finds name in PATH and the usual system directories; writes the full path
 * into out. A name with a '/' is taken as is. */
static bool find_binary(const char *name, char *out, size_t n)
{
    static const char extra[] = "/usr/sbin:/sbin:/usr/local/sbin:/usr/bin:/usr/libexec";
    if (strchr(name, '/')) {
        snprintf(out, n, "%s", name);
        return access(out, X_OK) == 0;
    }
    const char *path = getenv("PATH");
    char *dirs = malloc(strlen(path ? path : "") + sizeof(extra) + 2);
    if (!dirs)
        return false;
    sprintf(dirs, "%s:%s", path ? path : "", extra);
    bool found = false;
    for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d && !found;
         d = strtok_r(NULL, ":", &save)) {
        snprintf(out, n, "%s/%s", d, name);
        found = access(out, X_OK) == 0;
    }
    free(dirs);
    return found;
}

/* Waits for pid to end, up to deadline; a child still running then is
 * killed. True when it exited with status 0. A child may close its stdout
 * well before it exits (a slow libvirtd tearing down), so this blocks
 * (polling every 10 ms) instead of asking once with WNOHANG. */
static bool reap(pid_t pid, time_t deadline)
{
    int status;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (r < 0 && errno != EINTR)
            return false;
        if (time(NULL) >= deadline) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
            return false;
        }
        struct timespec ten_ms = {.tv_sec = 0, .tv_nsec = 10 * 1000 * 1000};
        nanosleep(&ten_ms, NULL);
    }
}

/* Reads fd until EOF or deadline, keeping the first n - 1 bytes in buf
 * (NUL-terminated) and discarding the rest, so a chatty child never blocks
 * on a full pipe. Returns the length kept. */
static size_t read_until_eof(int fd, char *buf, size_t n, time_t deadline)
{
    size_t len = 0;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int left = (int)(deadline - time(NULL));
        if (left <= 0 || poll(&p, 1, left * 1000) <= 0)
            break;
        char scratch[512];
        bool keep = len < n - 1;
        ssize_t got = read(fd, keep ? buf + len : scratch, keep ? n - 1 - len : sizeof(scratch));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        if (keep)
            len += (size_t)got;
    }
    buf[len] = '\0';
    return len;
}

/* Runs `path --version` and returns the start of its stdout in buf (stderr
 * discarded). Gives the program 5 seconds in all; a hung one is killed. */
static bool run_version(const char *path, char *buf, size_t n)
{
    int fds[2];
    if (pipe(fds) != 0)
        return false;
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return false;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(fds[1], STDOUT_FILENO);
        if (null >= 0) {
            dup2(null, STDERR_FILENO);
            dup2(null, STDIN_FILENO);
        }
        close(fds[0]);
        close(fds[1]);
        execl(path, path, "--version", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    time_t deadline = time(NULL) + 5;
    size_t len = read_until_eof(fds[0], buf, n, deadline);
    close(fds[0]);
    return reap(pid, deadline) && len > 0;
}

static bool detect(const char *what, const char *const names[], struct agent_version *out,
                   char *why, size_t whysz)
{
    char path[512], text[1024];
    bool any = false;

    for (size_t i = 0; names[i]; i++) {
        if (!find_binary(names[i], path, sizeof(path)))
            continue;
        any = true;
        if (run_version(path, text, sizeof(text)) && agent_version_from_output(text, out)) {
            snprintf(why, whysz, "%s --version", path);
            return true;
        }
        snprintf(why, whysz, "%s version unknown: `%s --version` gave no version number", what,
                 path);
    }
    if (!any) {
        size_t used = (size_t)snprintf(why, whysz, "%s version unknown: none of", what);
        for (size_t i = 0; names[i] && used < whysz; i++)
            used += (size_t)snprintf(why + used, whysz - used, " %s", names[i]);
        if (used < whysz)
            snprintf(why + used, whysz - used, " found");
    }
    return false;
}

bool host_detect_libvirt(struct agent_version *out, char *why, size_t whysz)
{
    static const char *const names[] = {"libvirtd", "virtqemud", "virsh", NULL};
    return detect("libvirt", names, out, why, whysz);
}

bool host_detect_qemu(struct agent_version *out, char *why, size_t whysz)
{
    struct utsname u;
    char arch[128] = "qemu-system-x86_64";
    if (uname(&u) == 0)
        snprintf(arch, sizeof(arch), "qemu-system-%s", u.machine);
    const char *const names[] = {arch, "qemu-kvm", "/usr/libexec/qemu-kvm", "kvm", NULL};
    return detect("QEMU", names, out, why, whysz);
}
