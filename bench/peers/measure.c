/*
 * measure REPORT COMMAND [ARG]...
 *
 * Runs COMMAND (standard input, output and error inherited) and writes one JSON line to
 * REPORT: its wall time, user and system CPU time and peak RSS (KiB), from wait4.
 * Exits with COMMAND's status (128 + signal if it was killed).
 *
 * Why not os.wait4 in bench/run itself: on exec, Linux folds the high-water mark of the
 * memory the child leaves behind into its ru_maxrss, and a child forked (or vforked) from
 * the Python runner leaves the runner's memory behind: `true` would "peak" at the
 * runner's 15 to 200 MB. Forked from this small program, the floor is about 1 MB.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double seconds(struct timeval tv) { return tv.tv_sec + tv.tv_usec / 1e6; }

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: measure REPORT COMMAND [ARG]...\n");
        return 2;
    }
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    pid_t pid = fork();
    if (pid < 0) {
        perror("measure: fork");
        return 2;
    }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        fprintf(stderr, "measure: cannot run %s: %s\n", argv[2], strerror(errno));
        _exit(127);
    }
    int status;
    struct rusage usage;
    while (wait4(pid, &status, 0, &usage) < 0) {
        if (errno != EINTR) {
            perror("measure: wait4");
            return 2;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    double wall = (end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    FILE *report = fopen(argv[1], "w");
    if (!report) {
        perror("measure: report");
        return 2;
    }
    fprintf(report,
            "{\"wall_s\": %.6f, \"user_s\": %.6f, \"sys_s\": %.6f, \"rss_kib\": %ld, "
            "\"exit\": %d, \"signal\": %d}\n",
            wall, seconds(usage.ru_utime), seconds(usage.ru_stime), usage.ru_maxrss,
            WIFEXITED(status) ? WEXITSTATUS(status) : -1,
            WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    fclose(report);
    return code;
}
